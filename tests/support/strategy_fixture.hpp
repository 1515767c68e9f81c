// SPDX-License-Identifier: MIT
// Base fixture for tests that run once per unlock strategy (CTest sets
// RFUTEX_UNLOCK). Where the kernel lacks the asked-for strategy the test is
// skipped, and the skip message says what is missing.
#pragma once

#include <gtest/gtest.h>

#include <system_error>

#include "rfutex/strategy.hpp"

namespace rfutex::test {

class strategy_test : public ::testing::Test {
 protected:
  void SetUp() override {
    try {
      strategy_ = active_unlock_strategy();
    } catch (const std::system_error& e) {
      GTEST_SKIP() << e.what();
    }
  }
  unlock_strategy strategy_ = unlock_strategy::guarded;
};

}  // namespace rfutex::test
