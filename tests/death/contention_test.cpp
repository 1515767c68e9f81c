// SPDX-License-Identifier: MIT
// Processes × threads incrementing one counter under one mutex in shared
// memory: the final count is exact (mutual exclusion). Whether a wake-up can
// be lost is checked deterministically, with the sleepers confirmed asleep
// (OneUnlockLetsTwoSleepingProcessesAcquireInTurn); under load it might
// show here too, as a hang the alarm ends within seconds.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <thread>
#include <vector>

#include "process.hpp"
#include "rfutex/robust_mutex.hpp"
#include "mutex_types.hpp"
#include "sleepers.hpp"
#include "strategy_fixture.hpp"

namespace {

using rfutex::lock_status;
using rfutex::test::child_process;
using rfutex::test::hang_bound;
using rfutex::test::shared;

// Far above what the counting tests need on a loaded machine; only a lost
// wake-up reaches it.
constexpr unsigned count_alarm_seconds = 25;

RFUTEX_MUTEX_TYPED_SUITE(Contention);

template <class M>
struct arena {
  M m;
  long counter = 0;
  int errors = 0;
};

TYPED_TEST(Contention, ProcessesTimesThreadsCountExactly) {
  constexpr int processes = 3, threads = 3, rounds = 5000;
  hang_bound alarm(count_alarm_seconds);
  shared<arena<TypeParam>> a;
  std::vector<child_process> children;
  for (int p = 0; p < processes; ++p)
    children.push_back(child_process::fork([&] {
      rfutex::test::die_with_parent();
      std::vector<std::thread> pool;
      for (int t = 0; t < threads; ++t)
        pool.emplace_back([&] {
          for (int i = 0; i < rounds; ++i) {
            if (a->m.lock() != lock_status::acquired) ++a->errors;
            ++a->counter;
            a->m.unlock();
          }
        });
      for (auto& th : pool) th.join();
      return 0;
    }));
  for (auto& c : children) EXPECT_TRUE(rfutex::test::exited_with(c.wait(), 0));
  EXPECT_EQ(a->counter, long{processes} * threads * rounds);
  EXPECT_EQ(a->errors, 0);
  EXPECT_EQ(a->m.owner(), 0);
}

// Contention that includes try_lock and timed attempts mixed with lock().
TYPED_TEST(Contention, MixedAcquisitionStylesCountExactly) {
  constexpr int processes = 2, rounds = 5000;
  hang_bound alarm(count_alarm_seconds);
  shared<arena<TypeParam>> a;
  std::vector<child_process> children;
  for (int p = 0; p < processes; ++p)
    children.push_back(child_process::fork([&, p] {
      rfutex::test::die_with_parent();
      for (int i = 0; i < rounds; ++i) {
        bool held = false;
        switch ((i + p) % 3) {
          case 0: held = a->m.lock() == lock_status::acquired; break;
          case 1: while (!(held = static_cast<bool>(a->m.try_lock()))) std::this_thread::yield(); break;
          case 2: held = static_cast<bool>(a->m.try_lock_for(std::chrono::hours(1))); break;
        }
        if (!held) ++a->errors;
        ++a->counter;
        a->m.unlock();
      }
      return 0;
    }));
  for (auto& c : children) EXPECT_TRUE(rfutex::test::exited_with(c.wait(), 0));
  EXPECT_EQ(a->counter, long{processes} * rounds);
  EXPECT_EQ(a->errors, 0);
}

// With the mutex held and two lockers in other processes confirmed asleep
// in the kernel (/proc), one unlock lets both acquire in turn: whoever is
// woken first must leave FUTEX_WAITERS in the word (or the unlock must have
// woken both), or the second sleeps for ever on a free mutex — recognised
// from the word and /proc, not by waiting.
TYPED_TEST(Contention, OneUnlockLetsTwoSleepingProcessesAcquireInTurn) {
  struct world {
    TypeParam m;
    rfutex::test::turn_counter turns;
    rfutex::test::sleeper_record sleepers[2];
  };
  hang_bound alarm(20);
  shared<world> w;
  ASSERT_EQ(w->m.lock(), lock_status::acquired);
  std::vector<child_process> children;
  for (auto& r : w->sleepers) {
    children.push_back(child_process::fork([&] {
      rfutex::test::die_with_parent();
      return rfutex::test::acquire_record_release(w->m, r, w->turns);
    }));
    rfutex::test::await_asleep(r, &w->m, std::chrono::seconds(5));
  }
  w->m.unlock();
  const std::vector<rfutex::test::sleeper_record*> records{&w->sleepers[0], &w->sleepers[1]};
  ASSERT_EQ(rfutex::test::await_every_sleeper(reinterpret_cast<std::uint32_t*>(&w->m), records,
                                              std::chrono::seconds(5)),
            "");
  for (auto& c : children) EXPECT_TRUE(rfutex::test::exited_with(c.wait(), 0));
  EXPECT_TRUE(rfutex::test::took_distinct_turns(records));
  EXPECT_EQ(w->m.owner(), 0);
}

}  // namespace
