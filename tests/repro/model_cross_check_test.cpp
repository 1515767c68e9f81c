// SPDX-License-Identifier: MIT
// The model's verdicts for this process's arch (x86_64, i386, arm64) agree
// with what `rfutex repro` observes on the real kernel this suite runs on
// (6.18 on the host, 7.2 in the x86 and arm64 VMs).
//   model says "no foreign write" holds  <=>  repro finds the file intact
#include <gtest/gtest.h>

#include "model/model.hpp"
#include "repro_support.hpp"

namespace {

namespace model = rfutex::model;
using rfutex::test::kernel_has_the_fix;
using rfutex::test::run_repro;

bool model_says_foreign_write(model::options o) {
  const model::result r = model::check(o);
  for (const auto& v : r.properties)
    if (v.what == model::property::no_foreign_write) return !v.holds;
  ADD_FAILURE() << "the model reported no verdict for no_foreign_write";
  return false;
}

bool repro_says_corrupted(const std::string& unlock, const std::string& remap) {
  const auto o = run_repro(unlock, remap, 2);
  EXPECT_EQ(o.runs, 2) << o.output;
  EXPECT_TRUE(o.corrupted == 0 || o.corrupted == 2) << "not deterministic: " << o.output;
  return o.corrupted > 0;
}

#if defined(__aarch64__)
constexpr model::arch here = model::arch::arm64;
#else
constexpr model::arch here = sizeof(void*) == 8 ? model::arch::x86_64 : model::arch::i386;
#endif

TEST(ModelMatchesRepro, GlibcSequence) {
  RFUTEX_SKIP_REPRO_UNDER_TSAN();
  EXPECT_TRUE(model_says_foreign_write(model::defaults_for(model::protocol::glibc, here)));
  EXPECT_TRUE(repro_says_corrupted("glibc", "libc"));
}

TEST(ModelMatchesRepro, GuardedSequenceWithGuardedRemap) {
  RFUTEX_SKIP_REPRO_UNDER_TSAN();
  auto o = model::defaults_for(model::protocol::guarded, here);
  o.remapping = model::remap::libc;  // the model's "a remap the guard sees"
  EXPECT_EQ(model_says_foreign_write(o), repro_says_corrupted("rfutex-guarded", "rfutex"));
  EXPECT_FALSE(model_says_foreign_write(o));
}

TEST(ModelMatchesRepro, GuardedSequenceWithRawRemap) {
  RFUTEX_SKIP_REPRO_UNDER_TSAN();
  auto o = model::defaults_for(model::protocol::guarded, here);
  o.remapping = model::remap::raw;
  EXPECT_EQ(model_says_foreign_write(o), repro_says_corrupted("rfutex-guarded", "raw"));
  EXPECT_TRUE(model_says_foreign_write(o));
}

// The vDSO sequence runs only on a kernel that has it; there the model's
// defaults (the real 7.2 behaviour of this arch) must agree with the repro.
TEST(ModelMatchesRepro, VdsoSequenceOnThisKernel) {
  RFUTEX_SKIP_REPRO_UNDER_TSAN();
  if (!kernel_has_the_fix())
    GTEST_SKIP() << "kernel " << rfutex::capabilities().kernel_release
                 << " has no vDSO try-unlock (the VM suite runs this)";
  auto o = model::defaults_for(model::protocol::vdso, here);
  o.remapping = model::remap::raw;
  EXPECT_EQ(model_says_foreign_write(o), repro_says_corrupted("rfutex-kernel", "raw"));
  EXPECT_FALSE(model_says_foreign_write(o));
}

}  // namespace
