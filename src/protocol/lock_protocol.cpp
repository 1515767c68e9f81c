#include "lock_protocol.hpp"

#include <atomic>
#include <cerrno>
#include <system_error>

#include "list_ops.hpp"

namespace rfutex::protocol {

namespace {

using sys::futex_owner_died;
using sys::futex_tid_mask;
using sys::futex_waiters;

// Release without kernel help: the classic sequence, leaving the window the
// guard closes. Returns the word's previous value.
std::uint32_t release_in_user_space(std::atomic_ref<std::uint32_t> w, const list_host& host) {
  // release: the protected data, and our `pending` store, happen-before
  // whoever acquires next — and through it before any unmap it decides on,
  // which is what lets the unmap guard see `pending` (DESIGN.md §3).
  const std::uint32_t old = w.exchange(0, std::memory_order_release);
  clear_pending(host);
  return old;
}

}  // namespace

std::uint32_t owner_of(const std::uint32_t* word) noexcept {
  // relaxed: a snapshot for reporting; only the owner relies on its own TID,
  // which no other thread can write.
  return std::atomic_ref<std::uint32_t>(*const_cast<std::uint32_t*>(word))
             .load(std::memory_order_relaxed) &
         futex_tid_mask;
}

acquire_outcome acquire(std::uint32_t* word, thread_state& me, wait_policy policy,
                        const deadline* until) {
  std::atomic_ref<std::uint32_t> w(*word);
  const std::uint32_t tid = me.tid;
  // relaxed: picks a path only; every transition below is decided by a CAS.
  std::uint32_t v = w.load(std::memory_order_relaxed);
  if ((v & futex_tid_mask) == tid) return acquire_outcome::self_deadlock;

  const std::uintptr_t node = node_of(word, me.host);
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
    if ((v & futex_waiters) == 0) {
      // relaxed: the bit only tells the owner's release to call FUTEX_WAKE;
      // the kernel re-checks the word under its own lock before we sleep.
      if (!w.compare_exchange_weak(v, v | futex_waiters, std::memory_order_relaxed,
                                   std::memory_order_relaxed))
        continue;
      v |= futex_waiters;
    }
    const long r = sys::futex_wait(word, v, until ? &until->at : nullptr,
                                   until ? until->clock : sys::futex_clock::monotonic);
    if (r == -ETIMEDOUT) {
      clear_pending(me.host);
      return acquire_outcome::timed_out;
    }
    if (r < 0 && r != -EAGAIN && r != -EINTR) {
      clear_pending(me.host);
      throw std::system_error(static_cast<int>(-r), std::generic_category(), "rfutex: FUTEX_WAIT");
    }
    slept = futex_waiters;
    v = w.load(std::memory_order_relaxed);
  }
}

release_outcome release(std::uint32_t* word, thread_state& me, int wake_count) {
  std::atomic_ref<std::uint32_t> w(*word);
  const std::uint32_t tid = me.tid;
  // relaxed: our own TID can only have been written by us.
  if ((w.load(std::memory_order_relaxed) & futex_tid_mask) != tid)
    return release_outcome::not_owner;

  const list_host& host = me.host;
  set_pending(host, node_of(word, host));
  unlink_node(host, node_of(word, host));

  switch (me.strategy) {
    case unlock_strategy::kernel: {
      // The vDSO's `lock cmpxchg` is our release store (a full barrier on
      // x86); the barrier keeps the compiler from sinking earlier stores past it.
      compiler_barrier();
      if (me.try_unlock(word, tid, pending_slot(host)) == tid) return release_outcome::released;
      // Waiters are queued: the kernel stores 0 (release), clears `pending`
      // and wakes, all in one call.
      if (sys::futex_robust_unlock(word, sys::futex_op_wake, wake_count, pending_slot(host),
                                   sys::futex_flag_native_list != 0) >= 0)
        return release_outcome::released;
      break;  // not after a successful probe; finish in user space
    }
    case unlock_strategy::hybrid: {
      std::uint32_t expected = tid;
      // release: as release_in_user_space().
      if (w.compare_exchange_strong(expected, 0, std::memory_order_release,
                                    std::memory_order_relaxed)) {
        clear_pending(host);
        return release_outcome::released;
      }
      compiler_barrier();  // the kernel's store-release of 0 is our release
      if (sys::futex_robust_unlock(word, sys::futex_op_wake, wake_count, pending_slot(host),
                                   sys::futex_flag_native_list != 0) >= 0)
        return release_outcome::released;
      break;
    }
    case unlock_strategy::guarded:
      break;
  }
  const std::uint32_t old = release_in_user_space(w, host);
  if ((old & futex_waiters) != 0 || wake_count > 1) sys::futex_wake(word, wake_count);
  return release_outcome::released;
}

}  // namespace rfutex::protocol
