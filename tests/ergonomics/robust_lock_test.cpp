// SPDX-License-Identifier: MIT
// rfutex::robust_lock: the scoped lock that reports owner death where the
// lock is taken, never hides it, and leaves an unrepaired mutex not
// recoverable. Owners really die (SIGKILL of a child process holding it).
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <mutex>
#include <thread>
#include <utility>

#include "errors.hpp"
#include "mutex_types.hpp"
#include "process.hpp"
#include "rfutex/robust_condition_variable.hpp"
#include "rfutex/robust_lock.hpp"
#include "rfutex/robust_mutex.hpp"
#include "strategy_fixture.hpp"

namespace {

using rfutex::lock_status;
using rfutex::robust_lock;
using rfutex::try_status;
using rfutex::test::child_process;
using rfutex::test::errno_thrown_by;
using rfutex::test::event;
using rfutex::test::shared;

RFUTEX_MUTEX_TYPED_SUITE(RobustLock);

template <class M>
struct arena {
  M m;
  rfutex::robust_condition_variable cv;
  int ready = 0;
  event locked;
  event waiting;
};

// A child process takes the mutex and is SIGKILLed holding it.
template <class M>
void owner_killed_holding(arena<M>& a) {
  auto child = child_process::fork([&] {
    (void)a.m.lock();
    a.locked.set();
    pause();
    return 0;
  });
  a.locked.wait();
  child.kill(SIGKILL);
  ASSERT_TRUE(rfutex::test::killed_by(child.wait(), SIGKILL));
}

TYPED_TEST(RobustLock, OwnerDeathIsReportedAndRepairKeepsTheMutexUsable) {
  shared<arena<TypeParam>> a;
  owner_killed_holding(*a);
  {
    robust_lock lock(a->m);
    ASSERT_TRUE(lock.owns_lock());
    EXPECT_TRUE(lock.owner_died());
    EXPECT_EQ(lock.status(), try_status::owner_died);
    lock.make_consistent();
    EXPECT_FALSE(lock.owner_died());
  }
  const auto r = a->m.try_lock();
  ASSERT_EQ(r.status(), try_status::acquired) << "the scope's end unlocked a repaired mutex";
  a->m.unlock();
}

TYPED_TEST(RobustLock, AScopeThatEndsWithoutRepairLeavesTheMutexNotRecoverable) {
  shared<arena<TypeParam>> a;
  owner_killed_holding(*a);
  {
    robust_lock lock(a->m);
    ASSERT_TRUE(lock.owner_died());
  }
  EXPECT_EQ(errno_thrown_by([&] { (void)a->m.try_lock(); }), ENOTRECOVERABLE);
}

TYPED_TEST(RobustLock, TryToLockOnAHeldMutexOwnsNothingAndUnlocksNothing) {
  shared<arena<TypeParam>> a;
  auto holder = child_process::fork([&] {
    (void)a->m.lock();
    a->locked.set();
    pause();
    return 0;
  });
  a->locked.wait();
  const pid_t holder_tid = a->m.owner();
  {
    robust_lock lock(a->m, std::try_to_lock);
    EXPECT_FALSE(lock.owns_lock());
    EXPECT_FALSE(lock);
    EXPECT_EQ(lock.status(), try_status::busy);
    robust_lock timed(a->m, std::chrono::milliseconds(1));
    EXPECT_FALSE(timed.owns_lock());
    EXPECT_EQ(timed.status(), try_status::timed_out);
  }
  EXPECT_EQ(a->m.owner(), holder_tid) << "a lock it did not own was released";
  holder.kill(SIGKILL);
  holder.wait();
}

TYPED_TEST(RobustLock, MovingTransfersOwnershipAndAssignmentReleasesTheOld) {
  shared<arena<TypeParam>> a;
  TypeParam other;
  robust_lock first(a->m);
  robust_lock moved(std::move(first));
  EXPECT_FALSE(first.owns_lock());
  EXPECT_EQ(first.mutex(), nullptr);
  EXPECT_TRUE(moved.owns_lock());
  robust_lock second(other);
  second = std::move(moved);  // releases `other`, takes over a->m
  EXPECT_EQ(other.owner(), 0) << "move-assignment must release what it held";
  EXPECT_EQ(a->m.owner(), static_cast<pid_t>(gettid()));
  second.unlock();
  EXPECT_EQ(a->m.owner(), 0);
}

TYPED_TEST(RobustLock, MisuseIsAClearError) {
  shared<arena<TypeParam>> a;
  robust_lock lock(a->m, std::defer_lock);
  EXPECT_EQ(errno_thrown_by([&] { lock.unlock(); }), EPERM);
  ASSERT_EQ(lock.lock(), lock_status::acquired);
  EXPECT_EQ(errno_thrown_by([&] { (void)lock.lock(); }), EDEADLK);
  EXPECT_EQ(errno_thrown_by([&] { (void)lock.try_lock(); }), EDEADLK);
  EXPECT_EQ(errno_thrown_by([&] { lock.make_consistent(); }), EINVAL)
      << "make_consistent on a mutex that needs no repair";
  lock.unlock();
  EXPECT_EQ(errno_thrown_by([&] { lock.make_consistent(); }), EPERM) << "not held";
}

TYPED_TEST(RobustLock, AdoptTakesOverTheStatus) {
  shared<arena<TypeParam>> a;
  owner_killed_holding(*a);
  const lock_status how = a->m.lock();
  ASSERT_EQ(how, lock_status::owner_died);
  robust_lock lock(a->m, std::adopt_lock, how);
  EXPECT_TRUE(lock.owner_died());
  lock.make_consistent();
}

// The condition variable releases and re-acquires through the guard; when
// the notifier dies holding the mutex, the waiter's guard says so.
TYPED_TEST(RobustLock, AConditionWaitThroughTheGuardReportsTheNotifiersDeath) {
  shared<arena<TypeParam>> a;
  robust_lock lock(a->m);
  auto notifier = child_process::fork([&] {
    a->waiting.wait();
    (void)a->m.lock();  // the waiter released it in wait()
    a->ready = 1;
    a->cv.notify_one();
    a->locked.set();
    pause();  // dies holding the mutex
    return 0;
  });
  a->waiting.set();
  lock_status s = lock_status::acquired;
  std::thread killer([&] {
    a->locked.wait();
    notifier.kill(SIGKILL);
  });
  while (a->ready == 0 && s == lock_status::acquired) s = a->cv.wait(lock);
  killer.join();
  notifier.wait();
  EXPECT_EQ(s, lock_status::owner_died);
  EXPECT_TRUE(lock.owns_lock());
  EXPECT_TRUE(lock.owner_died());
  lock.make_consistent();
}

}  // namespace
