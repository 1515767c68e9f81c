// SPDX-License-Identifier: MIT
// The C interface's reader-writer lock and one-time initialisation, driven
// from C (c_api_rwlock_checks.c): each check returns 0 or the line of its
// first failed expectation.
#include <gtest/gtest.h>

#include "strategy_fixture.hpp"

extern "C" {
int rfutex_c_check_rwlock(void);
int rfutex_c_check_once(void);
}

namespace {

class CApiRwlock : public rfutex::test::strategy_test {};

TEST_F(CApiRwlock, SharesExcludesAndReportsAWritersDeathToReadersAndWriters) {
  EXPECT_EQ(rfutex_c_check_rwlock(), 0) << "line in c_api_rwlock_checks.c";
}
TEST_F(CApiRwlock, OnceRunsInitAgainAfterTheInitialiserDied) {
  EXPECT_EQ(rfutex_c_check_once(), 0) << "line in c_api_rwlock_checks.c";
}

}  // namespace
