// SPDX-License-Identifier: MIT
// Unlocking after an owner death without make_consistent() declares the data
// lost: the mutex becomes not recoverable, for every process, for ever —
// including lockers asleep at that moment.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <system_error>
#include <thread>

#include "linux/robust_list.hpp"
#include "process.hpp"
#include "rfutex/robust_mutex.hpp"
#include "mutex_types.hpp"
#include "errors.hpp"
#include "strategy_fixture.hpp"

namespace {

using rfutex::lock_status;
using rfutex::test::child_process;
using rfutex::test::event;
using rfutex::test::shared;

RFUTEX_MUTEX_TYPED_SUITE(NotRecoverable);

template <class M>
struct arena {
  M m;
  event locked;
};

template <class M>
void kill_holder(arena<M>& a) {
  auto child = child_process::fork([&] {
    if (a.m.lock() != lock_status::acquired) return 1;
    a.locked.set();
    pause();
    return 0;
  });
  a.locked.wait();
  child.kill(SIGKILL);
  child.wait();
}

TYPED_TEST(NotRecoverable, UnlockWithoutRepairMakesEveryLaterLockFail) {
  shared<arena<TypeParam>> a;
  kill_holder(*a);
  ASSERT_EQ(a->m.lock(), lock_status::owner_died);
  a->m.unlock();  // no make_consistent()
  EXPECT_EQ(rfutex::test::errno_thrown_by([&] { (void)a->m.lock(); }), ENOTRECOVERABLE);
  EXPECT_EQ(rfutex::test::errno_thrown_by([&] { (void)a->m.try_lock(); }), ENOTRECOVERABLE);
  EXPECT_EQ(rfutex::test::errno_thrown_by([&] { (void)a->m.try_lock_for(std::chrono::seconds(1)); }), ENOTRECOVERABLE);
  EXPECT_EQ(a->m.owner(), 0) << "a failed lock leaves the mutex free";
  auto other = child_process::fork([&] {
    return rfutex::test::errno_thrown_by([&] { (void)a->m.lock(); }) == ENOTRECOVERABLE ? 0 : 1;
  });
  EXPECT_TRUE(rfutex::test::exited_with(other.wait(), 0)) << "other processes see it too";
}

// Lockers already asleep when the repairer gives up are all woken, and all
// get ENOTRECOVERABLE (none stays asleep on a mutex nobody will unlock).
TYPED_TEST(NotRecoverable, SleepingWaitersAreWokenWithTheError) {
  shared<arena<TypeParam>> a;
  kill_holder(*a);
  ASSERT_EQ(a->m.lock(), lock_status::owner_died);
  constexpr int waiters = 3;
  int errors[waiters] = {};
  pid_t tids[waiters] = {};
  event started[waiters];
  std::vector<std::thread> pool;
  for (int i = 0; i < waiters; ++i)
    pool.emplace_back([&, i] {
      tids[i] = rfutex::sys::gettid();
      started[i].set();
      errors[i] = rfutex::test::errno_thrown_by([&] { (void)a->m.lock(); });
    });
  for (int i = 0; i < waiters; ++i) {
    started[i].wait();
    rfutex::test::wait_until_blocked_on(getpid(), tids[i], &a->m);
  }
  a->m.unlock();
  for (auto& t : pool) t.join();
  for (int e : errors) EXPECT_EQ(e, ENOTRECOVERABLE);
}

TYPED_TEST(NotRecoverable, RepairingFirstKeepsTheMutexUsable) {
  shared<arena<TypeParam>> a;
  kill_holder(*a);
  ASSERT_EQ(a->m.lock(), lock_status::owner_died);
  a->m.make_consistent();
  a->m.unlock();
  ASSERT_EQ(a->m.lock(), lock_status::acquired);
  a->m.unlock();
}

}  // namespace
