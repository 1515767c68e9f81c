// SPDX-License-Identifier: MIT
// The robust lock types a behaviour test runs over: every owner-death,
// recovery and contention rule holds for both.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <type_traits>

#include "rfutex/robust_mutex.hpp"
#include "rfutex/robust_pi_mutex.hpp"

namespace rfutex::test {

using robust_mutex_types = ::testing::Types<robust_mutex, robust_pi_mutex>;

struct mutex_type_names {
  template <class T>
  static std::string GetName(int) {
    return std::is_same_v<T, robust_mutex> ? "plain" : "pi";
  }
};

template <class M>
constexpr bool is_pi = std::is_same_v<M, robust_pi_mutex>;

}  // namespace rfutex::test

// A typed test suite over both lock types, with a strategy_test fixture.
#define RFUTEX_MUTEX_TYPED_SUITE(Suite)                                    \
  template <class M>                                                       \
  class Suite : public rfutex::test::strategy_test {};                     \
  TYPED_TEST_SUITE(Suite, rfutex::test::robust_mutex_types,                \
                   rfutex::test::mutex_type_names)
