// The C interface, exercised from C (c_api_checks.c): each check returns 0
// or the line of its first failed expectation.
#include <gtest/gtest.h>

#include "strategy_fixture.hpp"

extern "C" {
int rfutex_c_check_basic(void);
int rfutex_c_check_owner_death(void);
int rfutex_c_check_condition_variable(void);
}

namespace {

class CApi : public rfutex::test::strategy_test {};

TEST_F(CApi, LockErrorsAndDeadlines) {
  EXPECT_EQ(rfutex_c_check_basic(), 0) << "line in c_api_checks.c";
}

TEST_F(CApi, OwnerDeathAndNotRecoverable) {
  EXPECT_EQ(rfutex_c_check_owner_death(), 0) << "line in c_api_checks.c";
}

TEST_F(CApi, ConditionVariable) {
  EXPECT_EQ(rfutex_c_check_condition_variable(), 0) << "line in c_api_checks.c";
}

}  // namespace
