// SPDX-License-Identifier: MIT
// Single-process behaviour of robust_mutex: ownership, errors, and the
// standard lock adaptors.
#include <gtest/gtest.h>

#include <chrono>
#include <mutex>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "linux/robust_list.hpp"
#include "rfutex/robust_mutex.hpp"
#include "mutex_types.hpp"
#include "errors.hpp"
#include "sleepers.hpp"
#include "strategy_fixture.hpp"

namespace {

using rfutex::lock_status;
using rfutex::try_status;

RFUTEX_MUTEX_TYPED_SUITE(RobustMutex);

TYPED_TEST(RobustMutex, LockRecordsTheCallersTid) {
  TypeParam m;
  ASSERT_EQ(m.lock(), lock_status::acquired);
  EXPECT_EQ(m.owner(), rfutex::sys::gettid());
  m.unlock();
  EXPECT_EQ(m.owner(), 0);
}

TYPED_TEST(RobustMutex, TryLockIsBusyWhileAnotherThreadHoldsIt) {
  TypeParam m;
  ASSERT_EQ(m.lock(), lock_status::acquired);
  try_status seen = try_status::acquired;
  std::thread([&] { seen = m.try_lock().status(); }).join();
  EXPECT_EQ(seen, try_status::busy);
  m.unlock();
  std::thread([&] {
    auto r = m.try_lock();
    seen = r.status();
    if (r) m.unlock();
  }).join();
  EXPECT_EQ(seen, try_status::acquired);
}

TYPED_TEST(RobustMutex, RelockingByTheOwnerIsEdeadlkAndChangesNothing) {
  TypeParam m;
  ASSERT_EQ(m.lock(), lock_status::acquired);
  EXPECT_EQ(rfutex::test::errno_thrown_by([&] { (void)m.lock(); }), EDEADLK);
  EXPECT_EQ(rfutex::test::errno_thrown_by([&] { (void)m.try_lock(); }), EDEADLK);
  EXPECT_EQ(rfutex::test::errno_thrown_by([&] { (void)m.try_lock_for(std::chrono::milliseconds(1)); }),
            EDEADLK);
  EXPECT_EQ(m.owner(), rfutex::sys::gettid());
  m.unlock();
  EXPECT_EQ(m.owner(), 0);
}

TYPED_TEST(RobustMutex, UnlockByANonOwnerIsEpermAndChangesNothing) {
  TypeParam m;
  EXPECT_EQ(rfutex::test::errno_thrown_by([&] { m.unlock(); }), EPERM)
      << "unlocking a free mutex";
  ASSERT_EQ(m.lock(), lock_status::acquired);
  int seen = 0;
  std::thread([&] { seen = rfutex::test::errno_thrown_by([&] { m.unlock(); }); }).join();
  EXPECT_EQ(seen, EPERM);
  EXPECT_EQ(m.owner(), rfutex::sys::gettid()) << "still ours";
  m.unlock();
}

TYPED_TEST(RobustMutex, MakeConsistentNeedsOwnershipAndAnInconsistentMutex) {
  TypeParam m;
  EXPECT_EQ(rfutex::test::errno_thrown_by([&] { m.make_consistent(); }), EPERM);
  ASSERT_EQ(m.lock(), lock_status::acquired);
  EXPECT_EQ(rfutex::test::errno_thrown_by([&] { m.make_consistent(); }), EINVAL);
  EXPECT_TRUE(m.consistent());
  m.unlock();
}

TYPED_TEST(RobustMutex, WorksWithStandardLockAdaptors) {
  TypeParam a, b;
  {
    std::scoped_lock both(a, b);
    EXPECT_NE(a.owner(), 0);
    EXPECT_NE(b.owner(), 0);
  }
  EXPECT_EQ(a.owner(), 0);
  EXPECT_EQ(b.owner(), 0);
  {
    std::unique_lock<TypeParam> l(a, std::try_to_lock);
    EXPECT_TRUE(l.owns_lock());
    l.unlock();
    EXPECT_TRUE(l.try_lock_for(std::chrono::milliseconds(1)));
  }
  EXPECT_EQ(a.owner(), 0);
  {
    std::unique_lock<TypeParam> l(a, std::defer_lock);
    EXPECT_EQ(std::try_lock(l, b), -1) << "-1: both acquired";
    b.unlock();
  }
}

// N threads of one process increment a counter under the mutex: the count is
// exact, so no two threads ever held it at once. Lost wake-ups are checked
// deterministically by OneUnlockLetsTwoSleepingThreadsAcquireInTurn; should
// one happen here under load, the alarm ends the hang within seconds.
TYPED_TEST(RobustMutex, ThreadsContendingGetMutualExclusion) {
  rfutex::test::hang_bound alarm(25);
  TypeParam m;
  long counter = 0;
  constexpr int threads = 4, rounds = 20000;
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&] {
      for (int i = 0; i < rounds; ++i) {
        std::lock_guard<TypeParam> g(m);
        ++counter;
      }
    });
  for (auto& th : pool) th.join();
  EXPECT_EQ(counter, long{threads} * rounds);
  EXPECT_EQ(m.owner(), 0);
}

// With the mutex held and two threads confirmed asleep on it (/proc), one
// unlock lets both acquire in turn: whoever is woken first must leave
// FUTEX_WAITERS in the word (or the unlock must have woken both), or the
// second sleeps for ever on a free mutex — recognised from the word and
// /proc, not by waiting.
TYPED_TEST(RobustMutex, OneUnlockLetsTwoSleepingThreadsAcquireInTurn) {
  struct world {
    TypeParam m;
    rfutex::test::turn_counter turns;
    rfutex::test::sleeper_record sleepers[2];
  };
  rfutex::test::hang_bound alarm(20);
  // Leaked when a sleeper is stranded: its thread still sleeps on it.
  auto* w = new world;
  ASSERT_EQ(w->m.lock(), lock_status::acquired);
  std::vector<std::thread> pool;
  for (auto& r : w->sleepers) {
    pool.emplace_back([w, &r] { (void)rfutex::test::acquire_record_release(w->m, r, w->turns); });
    rfutex::test::await_asleep(r, &w->m, std::chrono::seconds(5));
  }
  w->m.unlock();
  const std::vector<rfutex::test::sleeper_record*> records{&w->sleepers[0], &w->sleepers[1]};
  const std::string verdict = rfutex::test::await_every_sleeper(
      reinterpret_cast<std::uint32_t*>(&w->m), records, std::chrono::seconds(5));
  if (!verdict.empty()) {
    for (auto& t : pool) t.detach();  // asleep for good; the process ends them
    FAIL() << verdict;
  }
  for (auto& t : pool) t.join();
  EXPECT_TRUE(rfutex::test::took_distinct_turns(records));
  EXPECT_EQ(w->m.owner(), 0);
  delete w;
}

}  // namespace
