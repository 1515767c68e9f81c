// SPDX-License-Identifier: MIT
// robust_condition_variable: a notify that lands in the window between the
// waiter releasing the mutex and its FUTEX_WAIT is not lost. The waiter is
// stopped by ptrace exactly at the entry of that FUTEX_WAIT — the window
// held open — so the test needs no luck and no timing.
#include <gtest/gtest.h>

#include <chrono>
#include <sys/ptrace.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>

#include "mutex_types.hpp"
#include "process.hpp"
#include "ptrace_stepper.hpp"
#include "rfutex/robust_condition_variable.hpp"
#include "strategy_fixture.hpp"

namespace {

using rfutex::lock_status;
using rfutex::robust_condition_variable;
using rfutex::test::shared;
using rfutex::test::stepped_child;

RFUTEX_MUTEX_TYPED_SUITE(ConditionVariableNotify);

template <class M>
struct arena {
  M m;
  robust_condition_variable cv;
  std::uint32_t returned = 0;  // set by the waiter once wait() is back
  std::uint32_t status = 0;    // its lock_status, + 1
};

bool has_returned(const std::uint32_t& flag) {
  // acquire: pairs with the waiter's release store.
  return std::atomic_ref<std::uint32_t>(const_cast<std::uint32_t&>(flag))
             .load(std::memory_order_acquire) != 0;
}

TYPED_TEST(ConditionVariableNotify, ANotifyBeforeTheWaiterSleepsIsNotLost) {
  alarm(20);  // a wait that never returns fails the test instead of hanging it
  shared<arena<TypeParam>> a;
  stepped_child waiter(
      [&] {
        if (a->m.lock() != lock_status::acquired) ::_exit(3);
      },
      [&] {
        const lock_status s = a->cv.wait(a->m);  // one wait, no predicate loop
        a->status = static_cast<std::uint32_t>(s) + 1;
        std::atomic_ref<std::uint32_t>(a->returned).store(1, std::memory_order_release);
        a->m.unlock();
      });

  // Run the waiter to the entry of its FUTEX_WAIT on the sequence word: it has
  // released the mutex and read the sequence, the kernel has not yet compared it.
  bool at_wait_entry = false;
  while (waiter.to_next_syscall_stop())
    if (rfutex::test::blocked_in_futex_on(waiter.pid(), waiter.pid(), &a->cv)) {
      at_wait_entry = true;
      break;
    }
  ASSERT_TRUE(at_wait_entry) << "the waiter never called FUTEX_WAIT on the condition variable";
  ASSERT_EQ(a->m.owner(), 0) << "the waiter released the mutex before sleeping";

  a->cv.notify_one();

  // Let it go, untraced. It either returns from wait() or goes to sleep on
  // the sequence word for good: the notify was lost.
  ASSERT_EQ(::ptrace(PTRACE_DETACH, waiter.pid(), nullptr, nullptr), 0);
  // Asleep on the word means lost only once it stays so: a waiter just
  // entering FUTEX_WAIT (about to get EAGAIN) reads the same in /proc while
  // it waits for a CPU, which under QEMU can last a while. Waiting 1 s more
  // only delays a failure; it never lets one pass.
  bool lost = false;
  auto asleep_since = std::chrono::steady_clock::time_point::max();
  while (!has_returned(a->returned)) {
    if (!rfutex::test::blocked_in_futex_on(waiter.pid(), waiter.pid(), &a->cv)) {
      asleep_since = std::chrono::steady_clock::time_point::max();
    } else if (asleep_since == std::chrono::steady_clock::time_point::max()) {
      asleep_since = std::chrono::steady_clock::now();
    } else if (std::chrono::steady_clock::now() - asleep_since > std::chrono::seconds(1)) {
      lost = true;
      break;
    }
    sched_yield();
  }
  EXPECT_FALSE(lost) << "the waiter slept through a notify made before it slept";
  if (!lost) {
    EXPECT_EQ(a->status, static_cast<std::uint32_t>(lock_status::acquired) + 1);
  }
  alarm(0);  // the waiter is killed and reaped with `waiter`
}

}  // namespace
