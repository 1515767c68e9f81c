// SPDX-License-Identifier: MIT
// Which code actually releases the word and clears list_op_pending, observed
// on the running kernel by stepping a real unlock with ptrace:
// - kernel strategy, uncontended: both happen in one instruction step inside
//   the vDSO (the kernel's fix-up completes the critical section at the trap),
//   so no instant exists where the word is free and `pending` still set;
// - kernel strategy, contended: `pending` is still set when the thread enters
//   futex(FUTEX_WAKE | FUTEX_ROBUST_UNLOCK) and clear when it returns — the
//   kernel cleared it;
// - guarded strategy: the window exists in user space (word free, `pending`
//   set). Contended, the word is released by one futex(FUTEX_WAKE_OP): the
//   kernel stores 0 and wakes every sleeper under its own lock, so no
//   instant has the word free while a sleeper still relies on a wake not yet
//   issued; `pending` is still set during that call (a death before it is
//   an owner death) and cleared after it, in the window the guard closes.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/syscall.h>

#include <cstdint>

#include "linux/capabilities.hpp"
#include "linux/futex.hpp"
#include "linux/robust_list.hpp"
#include "process.hpp"
#include "ptrace_stepper.hpp"
#include "rfutex/capabilities.hpp"
#include "rfutex/robust_mutex.hpp"
#include "mutex_types.hpp"
#include "strategy_fixture.hpp"

namespace {

using rfutex::lock_status;
using rfutex::unlock_strategy;
using rfutex::test::child_process;
using rfutex::test::shared;
using rfutex::test::stepped_child;

RFUTEX_MUTEX_TYPED_SUITE(UnlockPath);

template <class M>
struct arena {
  M m;
  M warm_up;
  std::uintptr_t head = 0;
  std::uint32_t tid = 0;
};

template <class M>
void prepare_child(arena<M>& a) {
  (void)a.warm_up.lock();
  a.warm_up.unlock();
  a.head = reinterpret_cast<std::uintptr_t>(rfutex::current_robust_list().head);
  a.tid = static_cast<std::uint32_t>(rfutex::sys::gettid());
  (void)a.m.lock();
}

template <class M>
std::uint32_t word_of(arena<M>& a) {
  return std::atomic_ref<std::uint32_t>(*reinterpret_cast<std::uint32_t*>(&a.m))
      .load(std::memory_order_acquire);
}

template <class M>
std::uintptr_t pending_of(const stepped_child& c, const arena<M>& a) {
  return c.peek(a.head + offsetof(rfutex::sys::robust_list_head, list_op_pending));
}

bool in_vdso(std::uintptr_t ip) {
  const auto& v = rfutex::sys::probe().vdso;
  const auto base = reinterpret_cast<std::uintptr_t>(v.base);
  return ip >= base && ip < base + v.text_size;
}

TYPED_TEST(UnlockPath, UncontendedReleaseAndClearAreOneStepOnlyWithKernelHelp) {
  shared<arena<TypeParam>> a;
  stepped_child c([&] { prepare_child(*a); }, [&] { a->m.unlock(); });
  bool pending_seen = false;   // the unlock set `pending` at some point
  bool window_seen = false;    // word free while `pending` still set
  std::uintptr_t release_ip = 0;  // ip of the instruction that freed the word
  while (true) {
    const std::uintptr_t ip = c.regs().ip;
    const bool more = c.step();
    const std::uint32_t word = word_of(*a);
    const std::uintptr_t pending = pending_of(c, *a);
    if (pending != 0) pending_seen = true;
    if (word == 0 && release_ip == 0) release_ip = ip;
    if (word == 0 && pending != 0) window_seen = true;
    if (!more || (word == 0 && pending == 0 && pending_seen)) break;
  }
  ASSERT_TRUE(pending_seen) << "the unlock never announced itself in list_op_pending";
  ASSERT_NE(release_ip, 0u) << "the word was never released";
  if (this->strategy_ == unlock_strategy::kernel) {
    EXPECT_FALSE(window_seen) << "with the vDSO, no instant has the word free and pending set";
    EXPECT_TRUE(in_vdso(release_ip)) << "the word was released outside the vDSO";
  } else {
    EXPECT_TRUE(window_seen) << "the user-space sequence has its window (closed by the guard)";
    EXPECT_FALSE(in_vdso(release_ip));
  }
}

struct syscall_stop {
  long nr;
  int op;
  std::uint32_t word_at_entry, word_at_exit;
  std::uintptr_t pending_at_entry, pending_at_exit;
};

TYPED_TEST(UnlockPath, ContendedReleaseClearsPendingInTheKernelOnlyWithKernelHelp) {
  shared<arena<TypeParam>> a;
  stepped_child owner([&] { prepare_child(*a); }, [&] { a->m.unlock(); });
  auto waiter = child_process::fork([&] {
    const lock_status s = a->m.lock();
    a->m.unlock();
    return s == lock_status::acquired ? 0 : 1;
  });
  rfutex::test::wait_until_blocked_on(waiter.pid(), waiter.pid(), &a->m);

  std::vector<syscall_stop> futex_calls;
  bool entry = true;
  syscall_stop current{};
  while (owner.to_next_syscall_stop()) {
    const auto r = owner.regs();
    if (entry) {
      current = {static_cast<long>(r.syscall_nr), static_cast<int>(r.arg1), word_of(*a), 0,
                 pending_of(owner, *a), 0};
    } else {
      current.word_at_exit = word_of(*a);
      current.pending_at_exit = pending_of(owner, *a);
      if (rfutex::test::is_futex_syscall(current.nr)) futex_calls.push_back(current);
    }
    entry = !entry;
  }
  owner.kill();
  EXPECT_TRUE(rfutex::test::exited_with(waiter.wait(), 0)) << "the waiter was woken and got it";
  ASSERT_EQ(futex_calls.size(), 1u) << "one futex call wakes the waiter";
  const syscall_stop& call = futex_calls[0];
  const int cmd = call.op & ~(rfutex::sys::futex_flag_private | rfutex::sys::futex_flag_robust_unlock |
                              rfutex::sys::futex_flag_robust_list32);
  constexpr bool pi = rfutex::test::is_pi<TypeParam>;
  // A PI lock is handed over by the kernel (FUTEX_UNLOCK_PI); a plain one
  // released and woken by the kernel (FUTEX_WAKE_OP, or FUTEX_WAKE with
  // FUTEX_ROBUST_UNLOCK).
  EXPECT_EQ(cmd, pi ? rfutex::sys::futex_op_unlock_pi
                    : (this->strategy_ == unlock_strategy::guarded ? rfutex::sys::futex_op_wake_op
                                                                    : rfutex::sys::futex_op_wake));
  if (this->strategy_ == unlock_strategy::kernel || this->strategy_ == unlock_strategy::hybrid) {
    EXPECT_NE(call.op & rfutex::sys::futex_flag_robust_unlock, 0) << "FUTEX_ROBUST_UNLOCK";
    EXPECT_EQ(call.word_at_entry & rfutex::sys::futex_tid_mask, a->tid) << "still held at entry";
    EXPECT_NE(call.pending_at_entry, 0u) << "pending still set when entering the kernel";
    EXPECT_EQ(call.pending_at_exit, 0u) << "the kernel cleared it";
    EXPECT_NE(call.word_at_exit & rfutex::sys::futex_tid_mask, a->tid) << "the kernel released it";
  } else if (pi) {
    // FUTEX_UNLOCK_PI hands the lock over; user space clears `pending`
    // after it returns — the window the guard closes.
    EXPECT_EQ(call.op & rfutex::sys::futex_flag_robust_unlock, 0);
    EXPECT_EQ(call.word_at_entry & rfutex::sys::futex_tid_mask, a->tid) << "still held at entry";
    EXPECT_NE(call.pending_at_exit, 0u) << "the kernel did not clear it";
    EXPECT_NE(call.word_at_exit & rfutex::sys::futex_tid_mask, a->tid) << "handed over";
  } else {
    // One syscall stores 0 and wakes; `pending` stays set across it, so a
    // death before it leaves the kernel an owner death to hand over.
    EXPECT_EQ(call.op & rfutex::sys::futex_flag_robust_unlock, 0);
    EXPECT_EQ(call.word_at_entry & rfutex::sys::futex_tid_mask, a->tid) << "still held at entry";
    EXPECT_NE(call.word_at_entry & rfutex::sys::futex_waiters, 0u) << "the waiter announced itself";
    EXPECT_NE(call.pending_at_entry, 0u) << "pending still set when entering the kernel";
    EXPECT_NE(call.pending_at_exit, 0u) << "the kernel did not clear it";
    EXPECT_NE(call.word_at_exit & rfutex::sys::futex_tid_mask, a->tid) << "the kernel released it";
  }
}

}  // namespace
