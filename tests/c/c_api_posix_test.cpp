// SPDX-License-Identifier: MIT
// POSIX behaviours of the C interface, exercised from C
// (c_api_posix_checks.c): each check returns 0 or the line of its first
// failed expectation (cancellation checks: 1000 + the signal that ended the
// child, 2000 + its failed step).
#include <gtest/gtest.h>

#include "sanitizer_build.hpp"
#include "strategy_fixture.hpp"

extern "C" {
int rfutex_c_check_cancel_deferred(void);
int rfutex_c_check_cancel_asynchronous(void);
int rfutex_c_check_cancel_timed_deferred(void);
int rfutex_c_check_cancel_timed_asynchronous(void);
int rfutex_c_check_pi_deadlock_cycle(void);
int rfutex_c_check_bad_bytes(void);
}

namespace {

class CApiPosix : public rfutex::test::strategy_test {};

TEST_F(CApiPosix, CondWaitIsADeferredCancellationPoint) {
  EXPECT_EQ(rfutex_c_check_cancel_deferred(), 0);
}
TEST_F(CApiPosix, CondWaitIsAnAsynchronousCancellationPoint) {
  EXPECT_EQ(rfutex_c_check_cancel_asynchronous(), 0);
}
TEST_F(CApiPosix, CondTimedwaitIsADeferredCancellationPoint) {
  EXPECT_EQ(rfutex_c_check_cancel_timed_deferred(), 0);
}
TEST_F(CApiPosix, CondTimedwaitIsAnAsynchronousCancellationPoint) {
  EXPECT_EQ(rfutex_c_check_cancel_timed_asynchronous(), 0);
}
TEST_F(CApiPosix, PiDeadlockCycleIsEdeadlkForLockAndEtimedoutForTimedlock) {
  EXPECT_EQ(rfutex_c_check_pi_deadlock_cycle(), 0) << "line in c_api_posix_checks.c";
}
TEST_F(CApiPosix, BytesThatAreNoLockAreEinval) {
#if defined(RFUTEX_TEST_ASAN)
  GTEST_SKIP() << "UBSan (built with ASan here) stops at the misaligned lock this check passes on purpose";
#endif
  EXPECT_EQ(rfutex_c_check_bad_bytes(), 0) << "line in c_api_posix_checks.c";
}

}  // namespace
