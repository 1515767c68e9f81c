// SPDX-License-Identifier: MIT
// The uncontended lock and unlock, inline in every lock type's methods.
//
// The same steps as acquire() and release() in lock_protocol.cpp, for the
// common case only: a free word, and a thread whose list has the common
// layout (list_host::common_layout). Anything else goes to the full
// protocol. The thread's list_host is copied into a local first: the list
// stores are compiler barriers, and a local stays in registers across them
// where a TLS object would be reloaded after each.
#pragma once

#include <atomic>
#include <cstdint>

#include "list_ops.hpp"
#include "lock_protocol.hpp"
#include "sanitizer.hpp"

namespace rfutex::protocol {

// Release without kernel help: the classic sequence, leaving the window the
// unmap guard closes. Returns the word's previous value.
inline std::uint32_t release_in_user_space(std::atomic_ref<std::uint32_t> w,
                                           const list_host& host) noexcept {
  // release: the protected data, and our `pending` store, happen-before
  // whoever acquires next — and through it before any unmap it decides on,
  // which is what lets the unmap guard see `pending` (DESIGN.md §3).
  const std::uint32_t old = w.exchange(0, std::memory_order_release);
  clear_pending(host);
  return old;
}

// tid -> 0 when nobody waits, then clears `pending`. False (nothing changed)
// when waiters are queued: PI and hybrid locks must leave those to the kernel.
inline bool release_uncontended(std::atomic_ref<std::uint32_t> w, std::uint32_t tid,
                                const list_host& host) noexcept {
  std::uint32_t expected = tid;
  // release: as release_in_user_space().
  if (!w.compare_exchange_strong(expected, 0, std::memory_order_release,
                                 std::memory_order_relaxed))
    return false;
  clear_pending(host);
  return true;
}

// Takes a free word: pending, CAS 0 -> tid, link, clear pending. False, with
// nothing changed, when the word is not free or the layout is not common.
inline bool acquire_fast(std::uint32_t* word, const thread_state& me, lock_kind kind) noexcept {
  const list_host h = me.host;
  if (__builtin_expect(!h.common_layout, 0)) return false;
  const std::uintptr_t tag = kind == lock_kind::priority_inheritance ? sys::robust_entry_pi : 0;
  const std::uintptr_t node = node_of(word, h);
  set_pending(h, node | tag);
  std::uint32_t expected = 0;
  // acquire: the data the lock protects happens-after the last owner's release.
  if (__builtin_expect(!std::atomic_ref<std::uint32_t>(*word).compare_exchange_strong(
                           expected, me.tid, std::memory_order_acquire, std::memory_order_relaxed),
                       0)) {
    clear_pending(h);
    return false;
  }
  link_node_common(head_address(h), node, tag);
  clear_pending(h);
  return true;
}

// Releases a word the caller holds (it checked), waking waiters if any are
// queued (`wake_count` as for release()). Completes the release in every case.
inline void release_fast(std::uint32_t* word, thread_state& me, lock_kind kind, int wake_count = 1) {
  const list_host h = me.host;
  if (__builtin_expect(!h.common_layout, 0)) {
    release(word, me, kind, wake_count);
    return;
  }
  const bool pi = kind == lock_kind::priority_inheritance;
  const std::uint32_t tid = me.tid;
  const std::uintptr_t node = node_of(word, h);
  set_pending(h, node | (pi ? sys::robust_entry_pi : 0));
  unlink_node_common(node);
  std::atomic_ref<std::uint32_t> w(*word);
  if (me.strategy == unlock_strategy::kernel) {
    // Out of line (a tail call): the vDSO call would otherwise give this
    // function a stack frame on every strategy's path.
    finish_release(word, me, kind, wake_count);
    return;
  }
  if (__builtin_expect(release_uncontended(w, tid, h), 1)) return;
  finish_release(word, me, kind, wake_count);  // waiters queued: the kernel wakes them
}

}  // namespace rfutex::protocol
