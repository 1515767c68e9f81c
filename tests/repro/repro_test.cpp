// SPDX-License-Identifier: MIT
// The race, reproduced on the running kernel with `rfutex repro`, and closed:
// what each unlock × remap combination does to an unrelated file mapped over
// the lock. The expectations here are written from the kernel's capabilities,
// independently of the tool's own verdict.
#include <gtest/gtest.h>

#include "sanitizer_build.hpp"
#include "repro_support.hpp"

namespace {

using rfutex::test::kernel_has_the_fix;
using rfutex::test::run_repro;

constexpr int runs = 5;

// glibc's robust unlock leaves the window on every kernel: the file is
// corrupted on every run, on 6.18 and on 7.2 alike.
TEST(Repro, GlibcUnlockWithPlainMunmapCorruptsEveryRun) {
  RFUTEX_SKIP_REPRO_UNDER_TSAN();
  const auto o = run_repro("glibc", "libc", runs);
  ASSERT_EQ(o.runs, runs) << o.output;
  EXPECT_EQ(o.corrupted, runs) << o.output;
  EXPECT_EQ(o.pending_clear_at_stop, 0) << "glibc's list_op_pending is still set in the window";
  EXPECT_EQ(o.pending_clear_at_kill, 0) << "and nothing cleared it before the kill";
  EXPECT_EQ(o.exit_code, 0) << o.output;
}

// rfutex unlocking, its own unmap remapping: intact on every kernel (the
// guard on 6.18, the kernel's fix-up on 7.2).
TEST(Repro, RfutexWithRfutexUnmapIsIntact) {
  RFUTEX_SKIP_REPRO_UNDER_TSAN();
  const auto o = run_repro("rfutex", "rfutex", runs);
  ASSERT_EQ(o.runs, runs) << o.output;
  EXPECT_EQ(o.corrupted, 0) << o.output;
  EXPECT_EQ(o.pending_clear_at_kill, runs) << "the guard (or the kernel) cleared list_op_pending";
  EXPECT_EQ(o.exit_code, 0) << o.output;
}

// The guarded sequence does have the window: a remap no guard sees (a raw
// syscall) corrupts the file. This is what the guard is for, and the
// documented limit on kernels before 7.2.
TEST(Repro, GuardedUnlockWithARawRemapCorrupts) {
  RFUTEX_SKIP_REPRO_UNDER_TSAN();
  const auto o = run_repro("rfutex-guarded", "raw", runs);
  ASSERT_EQ(o.runs, runs) << o.output;
  EXPECT_EQ(o.corrupted, runs) << o.output;
  EXPECT_EQ(o.pending_clear_at_stop, 0) << o.output;
  EXPECT_EQ(o.exit_code, 0) << o.output;
}

// With the kernel's fix (Linux >= 7.2, x86), even a raw remap cannot corrupt:
// at the instant the word reads 0, the kernel has already cleared
// list_op_pending, inside the vDSO's critical section.
TEST(Repro, KernelStrategyIsIntactEvenWithARawRemap) {
  RFUTEX_SKIP_REPRO_UNDER_TSAN();
  if (!kernel_has_the_fix())
    GTEST_SKIP() << "kernel " << rfutex::capabilities().kernel_release
                 << " has no vDSO try-unlock / FUTEX_ROBUST_UNLOCK (the VM suite runs this)";
  const auto o = run_repro("rfutex-kernel", "raw", runs);
  ASSERT_EQ(o.runs, runs) << o.output;
  EXPECT_EQ(o.corrupted, 0) << o.output;
  EXPECT_EQ(o.pending_clear_at_stop, runs) << o.output;
  EXPECT_EQ(o.stopped_in_vdso, runs) << o.output;
  EXPECT_EQ(o.exit_code, 0) << o.output;
}

TEST(Repro, AutomaticStrategyWithARawRemapCorruptsOnlyWithoutTheFix) {
  RFUTEX_SKIP_REPRO_UNDER_TSAN();
  const auto o = run_repro("rfutex", "raw", runs);
  ASSERT_EQ(o.runs, runs) << o.output;
  EXPECT_EQ(o.corrupted, kernel_has_the_fix() ? 0 : runs) << o.output;
  EXPECT_EQ(o.exit_code, 0) << o.output;
}

TEST(Repro, KernelModeIsRefusedWhereTheKernelLacksIt) {
  RFUTEX_SKIP_REPRO_UNDER_TSAN();
  if (kernel_has_the_fix()) GTEST_SKIP() << "this kernel has the fix";
  const auto o = run_repro("rfutex-kernel", "libc", 1);
  EXPECT_EQ(o.exit_code, 3) << o.output;
  EXPECT_NE(o.output.find("RFUTEX_UNLOCK=kernel"), std::string::npos) << o.output;
}

class ReproUnderPreloadedGuard : public ::testing::Test {
 protected:
  void SetUp() override {
#if defined(RFUTEX_STATIC_BUILD)
    GTEST_SKIP() << "static build: LD_PRELOAD does not apply";
#endif
#if defined(RFUTEX_TEST_ASAN) || defined(RFUTEX_TEST_TSAN)
    GTEST_SKIP() << "sanitizer runtimes must come first in the library order";
#endif
  }
};

// librfutex-guard.so protects unmodified glibc programs: plain munmap/mmap
// are scrubbed, for glibc's own robust mutexes too.
TEST_F(ReproUnderPreloadedGuard, GlibcUnlockWithPlainMunmapIsIntact) {
  RFUTEX_SKIP_REPRO_UNDER_TSAN();
  const auto o = run_repro("glibc", "libc", runs, true);
  ASSERT_EQ(o.runs, runs) << o.output;
  EXPECT_EQ(o.corrupted, 0) << o.output;
  EXPECT_EQ(o.pending_clear_at_stop, 0) << "glibc left it set in the window";
  EXPECT_EQ(o.pending_clear_at_kill, runs) << "the preloaded guard cleared glibc's list_op_pending";
  EXPECT_NE(o.output.find("\"guard_loaded\":true"), std::string::npos) << o.output;
  EXPECT_EQ(o.exit_code, 0) << o.output;
}

TEST_F(ReproUnderPreloadedGuard, GuardedRfutexWithPlainMunmapIsIntact) {
  RFUTEX_SKIP_REPRO_UNDER_TSAN();
  const auto o = run_repro("rfutex-guarded", "libc", runs, true);
  ASSERT_EQ(o.runs, runs) << o.output;
  EXPECT_EQ(o.corrupted, 0) << o.output;
  EXPECT_EQ(o.exit_code, 0) << o.output;
}

TEST_F(ReproUnderPreloadedGuard, ARawRemapIsStillUnseen) {
  RFUTEX_SKIP_REPRO_UNDER_TSAN();
  const auto o = run_repro("glibc", "raw", runs, true);
  ASSERT_EQ(o.runs, runs) << o.output;
  EXPECT_EQ(o.corrupted, runs) << o.output;
}

}  // namespace
