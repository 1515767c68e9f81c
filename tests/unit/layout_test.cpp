// SPDX-License-Identifier: MIT
// The lock's bytes are a fixed ABI: same size, alignment and meaning in every
// process that maps them; all-zero bytes are an unlocked, consistent mutex.
#include <gtest/gtest.h>

#include <cstring>
#include <new>

#include "rfutex/robust_mutex.hpp"
#include "strategy_fixture.hpp"

namespace {

using rfutex::lock_status;
using rfutex::robust_mutex;

TEST(Layout, FortyBytesAlignedToEight) {
  EXPECT_EQ(sizeof(robust_mutex), 40u);
  EXPECT_EQ(alignof(robust_mutex), 8u);
}

TEST(Layout, DefaultConstructionIsAllZeroBytes) {
  alignas(robust_mutex) unsigned char bytes[sizeof(robust_mutex)];
  std::memset(bytes, 0xa5, sizeof bytes);
  new (bytes) robust_mutex;
  for (unsigned char b : bytes) EXPECT_EQ(b, 0);
}

class ZeroedMemory : public rfutex::test::strategy_test {};

TEST_F(ZeroedMemory, IsAnUnlockedConsistentMutex) {
  alignas(robust_mutex) unsigned char bytes[sizeof(robust_mutex)] = {};
  auto& m = *std::launder(reinterpret_cast<robust_mutex*>(bytes));
  EXPECT_EQ(m.owner(), 0);
  EXPECT_TRUE(m.consistent());
  ASSERT_EQ(m.lock(), lock_status::acquired);
  std::uint32_t word;
  std::memcpy(&word, bytes, sizeof word);
  EXPECT_EQ(static_cast<pid_t>(word), m.owner()) << "the futex word sits at offset 0";
  m.unlock();
  std::memcpy(&word, bytes, sizeof word);
  EXPECT_EQ(word, 0u) << "an unlocked mutex has word 0 again";
}

}  // namespace
