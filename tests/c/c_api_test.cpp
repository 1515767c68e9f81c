// SPDX-License-Identifier: MIT
// The C interface, exercised from C (c_api_checks.c): each check returns 0
// or the line of its first failed expectation.
#include <gtest/gtest.h>
#include <unistd.h>

#include "strategy_fixture.hpp"

extern "C" {
int rfutex_c_check_basic(void);
int rfutex_c_check_owner_death(void);
int rfutex_c_check_condition_variable(void);
int rfutex_c_check_destroy(void);
int rfutex_c_check_owner_death_every_acquisition(void);
int rfutex_c_check_timedwait_owner_death(void);
int rfutex_c_check_signal_wakes(void);
}

namespace {

class CApi : public rfutex::test::strategy_test {};

// Checks that can block on a lock, a condition variable or a child bound
// themselves with alarm(): a regression that never wakes them dies of
// SIGALRM in seconds instead of hanging until CTest's limit.

TEST_F(CApi, LockErrorsAndDeadlines) {
  alarm(20);
  EXPECT_EQ(rfutex_c_check_basic(), 0) << "line in c_api_checks.c";
  alarm(0);
}

TEST_F(CApi, OwnerDeathAndNotRecoverable) {
  alarm(20);
  EXPECT_EQ(rfutex_c_check_owner_death(), 0) << "line in c_api_checks.c";
  alarm(0);
}

TEST_F(CApi, ConditionVariable) {
  alarm(20);
  EXPECT_EQ(rfutex_c_check_condition_variable(), 0) << "line in c_api_checks.c";
  alarm(0);
}

TEST_F(CApi, DestroyScrubsPendingPointersIntoTheLock) {
  EXPECT_EQ(rfutex_c_check_destroy(), 0) << "line in c_api_checks.c";
}

TEST_F(CApi, EveryAcquisitionReportsOwnerDeath) {
  alarm(20);
  EXPECT_EQ(rfutex_c_check_owner_death_every_acquisition(), 0) << "line in c_api_checks.c";
  alarm(0);
}

TEST_F(CApi, TimedWaitReportsOwnerDeath) {
  alarm(20);
  EXPECT_EQ(rfutex_c_check_timedwait_owner_death(), 0) << "line in c_api_checks.c";
  alarm(0);
}

TEST_F(CApi, SignalWakesASleeper) {
  alarm(20);
  EXPECT_EQ(rfutex_c_check_signal_wakes(), 0) << "line in c_api_checks.c";
  alarm(0);
}

}  // namespace
