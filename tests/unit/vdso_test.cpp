// SPDX-License-Identifier: MIT
// The vDSO lookup parses the image the kernel mapped (no dlopen): it must find
// functions every vDSO exports, and they must behave like the real thing.
#include <gtest/gtest.h>

#include <time.h>

#include "linux/vdso.hpp"

namespace {

using rfutex::sys::vdso;
using rfutex::sys::vdso_symbol;

TEST(Vdso, TheKernelMappedOne) {
  EXPECT_NE(vdso().base, nullptr);
  EXPECT_GT(vdso().text_size, 0u);
}

TEST(Vdso, FindsClockGettimeAndItTellsTheTime) {
  using clock_gettime_fn = int (*)(clockid_t, timespec*);
  // arm64's vDSO names its functions __kernel_*, x86's __vdso_*.
#if defined(__aarch64__)
  const void* sym = vdso_symbol("__kernel_clock_gettime");
#else
  const void* sym = vdso_symbol("__vdso_clock_gettime");
#endif
  ASSERT_NE(sym, nullptr);
  const auto base = reinterpret_cast<std::uintptr_t>(vdso().base);
  const auto at = reinterpret_cast<std::uintptr_t>(sym);
  EXPECT_GT(at, base);
  EXPECT_LT(at, base + vdso().text_size) << "the symbol lies inside the image";

  auto fn = reinterpret_cast<clock_gettime_fn>(const_cast<void*>(sym));
  timespec before{}, through_vdso{}, after{};
  clock_gettime(CLOCK_MONOTONIC, &before);
  ASSERT_EQ(fn(CLOCK_MONOTONIC, &through_vdso), 0);
  clock_gettime(CLOCK_MONOTONIC, &after);
  auto ns = [](const timespec& t) { return t.tv_sec * 1'000'000'000LL + t.tv_nsec; };
  EXPECT_LE(ns(before), ns(through_vdso));
  EXPECT_LE(ns(through_vdso), ns(after));
}

TEST(Vdso, UnknownNamesAreAbsent) {
  EXPECT_EQ(vdso_symbol("__vdso_no_such_function"), nullptr);
  EXPECT_EQ(vdso_symbol(""), nullptr);
}

}  // namespace
