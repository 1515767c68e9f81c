// SPDX-License-Identifier: MIT
// What an owner death and a recovery leave behind, looked at directly: the
// lock word after an owner_died acquisition, and the thread's robust list as
// the kernel would walk it after the not-recoverable unlock and after every
// lock attempt that fails with ENOTRECOVERABLE. A leftover bit or list entry
// does no harm at once — it breaks a later unlock, or makes the kernel act on
// this lock when the thread dies much later.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>

#include "errors.hpp"
#include "kernel_view.hpp"
#include "linux/futex.hpp"
#include "linux/robust_list.hpp"
#include "mutex_types.hpp"
#include "process.hpp"
#include "rfutex/robust_mutex.hpp"
#include "strategy_fixture.hpp"

namespace {

using rfutex::lock_status;
using rfutex::test::child_process;
using rfutex::test::event;
using rfutex::test::shared;

RFUTEX_MUTEX_TYPED_SUITE(RecoveryState);

template <class M>
struct arena {
  M m;
  event locked;
  std::uint32_t word_after_lock = 0;  // as the sleeper saw it right after lock()
};

template <class M>
std::uint32_t word_value(const M& m) {
  // acquire: a snapshot of the word written by other threads and the kernel.
  return std::atomic_ref<std::uint32_t>(*reinterpret_cast<std::uint32_t*>(const_cast<M*>(&m)))
      .load(std::memory_order_acquire);
}

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

// Nothing the kernel would act on if this thread died now.
testing::AssertionResult robust_list_empty_and_no_pending() {
  const auto view = rfutex::test::view_own_robust_list();
  if (!rfutex::test::holds_exactly(view, {}))
    return testing::AssertionFailure() << view.words.size() << " entries left on the robust list";
  if (view.pending_word != nullptr) return testing::AssertionFailure() << "list_op_pending still set";
  return testing::AssertionSuccess();
}

// The owner_died acquisition leaves the word as any other acquisition:
// exactly the new owner's TID (no FUTEX_OWNER_DIED left over; no
// FUTEX_WAITERS, nobody waits).
TYPED_TEST(RecoveryState, OwnerDiedAcquisitionLeavesExactlyTheNewOwnersTid) {
  shared<arena<TypeParam>> a;
  kill_holder(*a);
  ASSERT_EQ(a->m.lock(), lock_status::owner_died);
  EXPECT_EQ(word_value(a->m), static_cast<std::uint32_t>(rfutex::sys::gettid()));
  a->m.make_consistent();
  a->m.unlock();
  EXPECT_EQ(word_value(a->m), 0u);
}

// The same for a waiter asleep in the kernel when the owner dies: for a PI
// lock the kernel itself makes it the owner, OWNER_DIED included, which the
// waiter must take out again. FUTEX_WAITERS may stay: a thread that slept
// acquires with it (others may sleep too), and the kernel sets it when it
// makes a PI waiter the owner; it only sends the next unlock to the kernel.
TYPED_TEST(RecoveryState, OwnerDiedAcquisitionBySleeperLeavesExactlyItsTid) {
  shared<arena<TypeParam>> a;
  auto owner = child_process::fork([&] {
    if (a->m.lock() != lock_status::acquired) return 1;
    a->locked.set();
    pause();
    return 0;
  });
  a->locked.wait();
  auto sleeper = child_process::fork([&] {
    if (a->m.lock() != lock_status::owner_died) return 1;
    a->word_after_lock = word_value(a->m);
    a->m.make_consistent();
    a->m.unlock();
    return 0;
  });
  const pid_t sleeper_tid = sleeper.pid();  // one thread: its TID is its PID
  rfutex::test::await_blocked_on(sleeper_tid, sleeper_tid, &a->m, std::chrono::seconds(5));
  owner.kill(SIGKILL);
  owner.wait();
  ASSERT_TRUE(rfutex::test::exited_with(sleeper.wait(), 0)) << "woken with owner_died";
  EXPECT_EQ(a->word_after_lock & ~rfutex::sys::futex_waiters, static_cast<std::uint32_t>(sleeper_tid));
  EXPECT_EQ(word_value(a->m), 0u);
}

// The unlock that declares the mutex not recoverable unlinks it like any
// unlock, and every lock attempt that then fails leaves nothing behind.
TYPED_TEST(RecoveryState, NotRecoverableUnlockAndFailedLocksLeaveNoListEntry) {
  shared<arena<TypeParam>> a;
  kill_holder(*a);
  ASSERT_TRUE(robust_list_empty_and_no_pending()) << "before";
  ASSERT_EQ(a->m.lock(), lock_status::owner_died);
  a->m.unlock();  // no make_consistent(): not recoverable
  EXPECT_TRUE(robust_list_empty_and_no_pending()) << "after the not-recoverable unlock";
  EXPECT_EQ(rfutex::test::errno_thrown_by([&] { (void)a->m.lock(); }), ENOTRECOVERABLE);
  EXPECT_TRUE(robust_list_empty_and_no_pending()) << "after a failed lock()";
  EXPECT_EQ(rfutex::test::errno_thrown_by([&] { (void)a->m.try_lock(); }), ENOTRECOVERABLE);
  EXPECT_TRUE(robust_list_empty_and_no_pending()) << "after a failed try_lock()";
  EXPECT_EQ(rfutex::test::errno_thrown_by([&] { (void)a->m.try_lock_for(std::chrono::seconds(1)); }),
            ENOTRECOVERABLE);
  EXPECT_TRUE(robust_list_empty_and_no_pending()) << "after a failed try_lock_for()";
  EXPECT_EQ(rfutex::test::errno_thrown_by([&] {
              (void)a->m.try_lock_until(std::chrono::system_clock::now() + std::chrono::seconds(1));
            }),
            ENOTRECOVERABLE);
  EXPECT_TRUE(robust_list_empty_and_no_pending()) << "after a failed try_lock_until(system_clock)";
  EXPECT_EQ(word_value(a->m) & rfutex::sys::futex_tid_mask, 0u) << "and the word is free";
}

}  // namespace
