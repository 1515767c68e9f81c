// Processes × threads incrementing one counter under one mutex in shared
// memory: the final count is exact (mutual exclusion, no lost wake-up — a lost
// one would hang, and CTest's timeout would fail the test).
#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "process.hpp"
#include "rfutex/robust_mutex.hpp"
#include "mutex_types.hpp"
#include "strategy_fixture.hpp"

namespace {

using rfutex::lock_status;
using rfutex::test::child_process;
using rfutex::test::shared;

RFUTEX_MUTEX_TYPED_SUITE(Contention);

template <class M>
struct arena {
  M m;
  long counter = 0;
  int errors = 0;
};

TYPED_TEST(Contention, ProcessesTimesThreadsCountExactly) {
  constexpr int processes = 3, threads = 3, rounds = 5000;
  shared<arena<TypeParam>> a;
  std::vector<child_process> children;
  for (int p = 0; p < processes; ++p)
    children.push_back(child_process::fork([&] {
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
  shared<arena<TypeParam>> a;
  std::vector<child_process> children;
  for (int p = 0; p < processes; ++p)
    children.push_back(child_process::fork([&, p] {
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

}  // namespace
