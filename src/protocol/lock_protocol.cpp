// SPDX-License-Identifier: MIT
#include "lock_protocol.hpp"

#include <atomic>
#include <cerrno>
#include <climits>
#include <system_error>

#include "fast_path.hpp"
#include "list_ops.hpp"
#include "sanitizer.hpp"

namespace rfutex::protocol {

namespace {

using sys::futex_owner_died;
using sys::futex_tid_mask;
using sys::futex_waiters;

[[noreturn]] void fail_futex(long r, const char* what) {
  throw std::system_error(static_cast<int>(-r), std::generic_category(), what);
}

// The PI acquisition: user space takes only a free word; everything else is
// the kernel's (it queues us by priority and boosts the owner).
acquire_outcome acquire_pi(std::uint32_t* word, thread_state& me, std::uintptr_t node,
                           wait_policy policy, const deadline* until) {
  std::atomic_ref<std::uint32_t> w(*word);
  set_pending(me.host, node | sys::robust_entry_pi);
  std::uint32_t expected = 0;
  // acquire: the data the lock protects happens-after the last owner's release.
  if (!w.compare_exchange_strong(expected, me.tid, std::memory_order_acquire,
                                 std::memory_order_relaxed)) {
    for (;;) {
      const long r = policy == wait_policy::no_wait
                         ? sys::futex_trylock_pi(word)
                         : sys::futex_lock_pi(word, until ? &until->at : nullptr,
                                              until ? until->clock : sys::futex_clock::monotonic);
      if (r == 0) break;
      if (r == -EINTR) continue;
      if ((r == -EDEADLK || r == -ESRCH) && owner_of(word) != me.tid && until != nullptr) {
        // A cycle through the holder's waits (EDEADLK from the kernel's chain
        // walk) or a holder TID that names no thread (ESRCH): the lock cannot
        // come to us by handover before the holder changes. A timed lock ends
        // as it would against a holder that keeps it: at the deadline, after
        // one last attempt (the cycle may have broken meanwhile).
        std::uint32_t never_woken = 0;  // not a cancellation point: a lock is not one
        long slept;
        do slept = sys::futex_wait(&never_woken, 0, &until->at, until->clock);
        while (slept == -EINTR || slept == -EAGAIN);
        if (slept != -ETIMEDOUT) {
          clear_pending(me.host);
          fail_futex(slept, "rfutex: FUTEX_WAIT");
        }
        if (sys::futex_trylock_pi(word) == 0) break;
        clear_pending(me.host);
        return acquire_outcome::timed_out;
      }
      clear_pending(me.host);
      if (r == -EWOULDBLOCK || r == -EBUSY) return acquire_outcome::busy;
      if (r == -ETIMEDOUT) return acquire_outcome::timed_out;
      if (r == -EDEADLK) {
        // Ours (relaxed: only we write our TID): a relock. Otherwise a cycle.
        if (owner_of(word) == me.tid) return acquire_outcome::self_deadlock;
        return policy == wait_policy::no_wait ? acquire_outcome::busy
                                              : acquire_outcome::deadlock_cycle;
      }
      if (r == -ESRCH)
        return policy == wait_policy::no_wait ? acquire_outcome::busy : acquire_outcome::owner_gone;
      fail_futex(r, "rfutex: FUTEX_LOCK_PI");
    }
    // The kernel made us the owner. acquire: its store of our TID is ordered
    // after the previous owner's release (the kernel's own locking), and our
    // reads of the data after this load.
    tsan_acquire(word);
    const std::uint32_t v = w.load(std::memory_order_acquire);
    if ((v & futex_owner_died) != 0) {
      // relaxed: we own the word; only the kernel may add FUTEX_WAITERS
      // meanwhile, and fetch_and keeps that.
      w.fetch_and(~futex_owner_died, std::memory_order_relaxed);
      link_node(me.host, node, sys::robust_entry_pi);
      clear_pending(me.host);
      return acquire_outcome::owner_died;
    }
  }
  link_node(me.host, node, sys::robust_entry_pi);
  clear_pending(me.host);
  return acquire_outcome::acquired;
}

}  // namespace

namespace {

enum class sleep_result : unsigned char {
  slept,      // woken, or the word changed before we slept, or a signal: read it again
  changed,    // setting FUTEX_WAITERS failed: `v` holds the word's new value
  timed_out,  // the deadline passed; `pending` cleared
};

// One sleep of a waiter on `word`, last read as `v` with an owner: sets
// FUTEX_WAITERS if missing, so that the owner's release wakes us, then
// FUTEX_WAIT. `pending` is set by the caller and stays set while we sleep
// (see "Liveness"). Throws on a futex error, `pending` cleared.
sleep_result sleep_while_held(std::uint32_t* word, std::uint32_t& v, thread_state& me,
                              const deadline* until) {
  std::atomic_ref<std::uint32_t> w(*word);
  if ((v & futex_waiters) == 0) {
    // relaxed: the bit only tells the owner's release to call FUTEX_WAKE;
    // the kernel re-checks the word under its own lock before we sleep.
    if (!w.compare_exchange_weak(v, v | futex_waiters, std::memory_order_relaxed,
                                 std::memory_order_relaxed))
      return sleep_result::changed;
    v |= futex_waiters;
  }
  const long r = sys::futex_wait(word, v, until ? &until->at : nullptr,
                                 until ? until->clock : sys::futex_clock::monotonic);
  if (r == -ETIMEDOUT) {
    clear_pending(me.host);
    return sleep_result::timed_out;
  }
  if (r < 0 && r != -EAGAIN && r != -EINTR) {
    clear_pending(me.host);
    fail_futex(r, "rfutex: FUTEX_WAIT");
  }
  return sleep_result::slept;
}

}  // namespace

acquire_outcome acquire(std::uint32_t* word, thread_state& me, lock_kind kind,
                        wait_policy policy, const deadline* until) {
  std::atomic_ref<std::uint32_t> w(*word);
  const std::uint32_t tid = me.tid;
  // relaxed: picks a path only; every transition below is decided by a CAS.
  std::uint32_t v = w.load(std::memory_order_relaxed);
  if ((v & futex_tid_mask) == tid) return acquire_outcome::self_deadlock;

  const std::uintptr_t node = node_of(word, me.host);
  if (kind == lock_kind::priority_inheritance) return acquire_pi(word, me, node, policy, until);
  set_pending(me.host, node);
  std::uint32_t slept = 0;  // FUTEX_WAITERS once we have slept: others may sleep too
  for (;;) {
    if ((v & futex_tid_mask) == 0) {
      const std::uint32_t desired = tid | (v & futex_waiters) | slept;
      // acquire: the data the lock protects happens-after the last owner's release.
      if (w.compare_exchange_weak(v, desired, std::memory_order_acquire,
                                  std::memory_order_relaxed)) {
        link_node(me.host, node, 0);
        clear_pending(me.host);
        return (v & futex_owner_died) != 0 ? acquire_outcome::owner_died
                                           : acquire_outcome::acquired;
      }
      continue;
    }
    if (policy == wait_policy::no_wait) {
      clear_pending(me.host);
      return acquire_outcome::busy;
    }
    const sleep_result s = sleep_while_held(word, v, me, until);
    if (s == sleep_result::changed) continue;
    if (s == sleep_result::timed_out) return acquire_outcome::timed_out;
    slept = futex_waiters;
    v = w.load(std::memory_order_relaxed);
  }
}

acquire_outcome await_free(std::uint32_t* word, thread_state& me, wait_policy policy,
                           const deadline* until) {
  std::atomic_ref<std::uint32_t> w(*word);
  // acquire: what the last owner wrote before its release is visible to
  // the caller once it sees the word free.
  std::uint32_t v = w.load(std::memory_order_acquire);
  if ((v & futex_tid_mask) == 0) return acquire_outcome::acquired;
  if (policy == wait_policy::no_wait) return acquire_outcome::busy;
  set_pending(me.host, node_of(word, me.host));
  bool slept = false;
  do {
    const sleep_result s = sleep_while_held(word, v, me, until);
    if (s == sleep_result::timed_out) return acquire_outcome::timed_out;
    if (s == sleep_result::slept) {
      slept = true;
      v = w.load(std::memory_order_acquire);
    }
  } while ((v & futex_tid_mask) != 0);
  // Having slept, pass the wake-up on (see the header). `pending` is still
  // set, so a death before this call makes the kernel wake the next waiter.
  if (slept) sys::futex_wake(word, INT_MAX);
  clear_pending(me.host);
  return acquire_outcome::acquired;
}

release_outcome release(std::uint32_t* word, thread_state& me, lock_kind kind, int wake_count) {
  // relaxed: our own TID can only have been written by us (or, for PI, by
  // the kernel on our behalf before we returned from FUTEX_LOCK_PI).
  if ((std::atomic_ref<std::uint32_t>(*word).load(std::memory_order_relaxed) & futex_tid_mask) !=
      me.tid)
    return release_outcome::not_owner;
  const list_host& host = me.host;
  const std::uintptr_t node = node_of(word, host);
  set_pending(host, node | (kind == lock_kind::priority_inheritance ? sys::robust_entry_pi : 0));
  unlink_node(host, node);
  finish_release(word, me, kind, wake_count);
  return release_outcome::released;
}

void finish_release(std::uint32_t* word, thread_state& me, lock_kind kind, int wake_count) {
  std::atomic_ref<std::uint32_t> w(*word);
  const std::uint32_t tid = me.tid;
  const bool pi = kind == lock_kind::priority_inheritance;
  // The kernel op that releases a contended word: wakes a FUTEX_WAIT sleeper,
  // or hands a PI futex to its top waiter.
  const int kernel_op = pi ? sys::futex_op_unlock_pi : sys::futex_op_wake;
  const list_host& host = me.host;

  switch (me.strategy) {
    case unlock_strategy::kernel: {
      // The vDSO's `lock cmpxchg` is our release store (a full barrier on
      // x86); the barrier keeps the compiler from sinking earlier stores past it.
      compiler_barrier();
      tsan_release(word);
      if (me.try_unlock(word, tid, pending_slot(host)) == tid) return;
      // Waiters are queued: the kernel releases (or hands over), clears
      // `pending` and wakes, all in one call.
      if (sys::futex_robust_unlock(word, kernel_op, wake_count, pending_slot(host),
                                   sys::futex_flag_native_list != 0) >= 0)
        return;
      break;  // not after a successful probe; finish in user space
    }
    case unlock_strategy::hybrid: {
      if (release_uncontended(w, tid, host)) return;
      compiler_barrier();  // the kernel's store is our release
      tsan_release(word);
      if (sys::futex_robust_unlock(word, kernel_op, wake_count, pending_slot(host),
                                   sys::futex_flag_native_list != 0) >= 0)
        return;
      break;
    }
    case unlock_strategy::guarded:
      break;
  }
  if (pi) {
    if (!release_uncontended(w, tid, host)) {
      tsan_release(word);  // the kernel hands the word over
      const long r = sys::futex_unlock_pi(word);
      clear_pending(host);
      if (r < 0) fail_futex(r, "rfutex: FUTEX_UNLOCK_PI");
    }
    return;
  }
  // Guarded plain lock. Nobody sleeps: the user-space release suffices.
  if (release_uncontended(w, tid, host)) return;
  // Sleepers are queued (FUTEX_WAITERS). The kernel stores 0 and wakes every
  // one of them in one call, so no death can fall between the release and
  // the wake-up (a SIGKILL acts only on the way back to user mode), and no
  // woken thread carries the wake-up of another: if one dies before it takes
  // the lock, the others are awake already. `pending` stays set until the
  // call returns: a death before it is an owner death the kernel recovers
  // (OWNER_DIED | WAITERS, one waiter woken), a death after it finds every
  // sleeper awake; the window after the store is the unmap guard's, as for
  // every user-space release.
  compiler_barrier();  // the kernel's store is our release (a locked RMW)
  tsan_release(word);
  const long woken = sys::futex_store_zero_and_wake(word, INT_MAX);
  if (woken < 0) {
    // Not expected (the word is ours and mapped): fall back to the
    // two-step release, which wakes all the same.
    release_in_user_space(w, host);
    sys::futex_wake(word, INT_MAX);
    return;
  }
  clear_pending(host);
}

}  // namespace rfutex::protocol
