// The robust lock protocol: how every rfutex lock takes and releases its
// futex word while keeping the kernel's view of the owner's robust list
// exact at every instruction. Written once; every lock type uses it.
//
// The word: owner TID | FUTEX_OWNER_DIED | FUTEX_WAITERS, 0 when free.
//
//   word                     meaning                        acquire does
//   0                        free                           CAS -> tid
//   OWNER_DIED [| WAITERS]   free; last owner died holding  CAS -> tid [| WAITERS], owner_died
//   tid'[| WAITERS]          held by tid'                   set WAITERS, FUTEX_WAIT
//   tid  [| WAITERS]         held by us                     self_deadlock, nothing changed
//
// Acquire:  pending = node; CAS word; link node; pending = 0.
//   Death after the CAS and before the link is covered by `pending`. While a
//   thread sleeps in FUTEX_WAIT, `pending` stays set, so that a waiter killed
//   right after being woken passes the wake-up on (the kernel wakes one
//   waiter of a pending, ownerless, non-PI futex of a dying thread).
//   A thread that slept acquires with FUTEX_WAITERS set: others may still
//   sleep, and its unlock must wake them.
//
// Release:  pending = node; unlink node; <store 0 to word>; pending = 0; wake.
//   Between the store and the clearing of `pending`, the word is free: another
//   thread may take the lock, decide it is the last user and unmap the memory.
//   If this process dies in that window, the kernel acts on the stale
//   `pending` and may write FUTEX_OWNER_DIED into whatever is mapped there
//   now. The strategies differ only in how they close that window:
//   - kernel  (Linux >= 7.2, x86): the vDSO try-unlock does the store and the
//     clear inside a range the kernel completes on our behalf if we are
//     interrupted between them; with waiters, futex(FUTEX_WAKE |
//     FUTEX_ROBUST_UNLOCK) does store, clear and wake in the kernel.
//   - hybrid  (FUTEX_ROBUST_UNLOCK only): the contended release as `kernel`,
//     the uncontended one as `guarded`.
//   - guarded (older kernels): the store and the clear in user space; the
//     unmap guard clears a stale `pending` before any unmap of its range
//     (see README, Limitations).
//
// Priority-inheritance locks use the same word, list and pending slot (their
// list entries carry bit 0, FUTEX_ROBUST_MOD_PI), but the kernel owns every
// contended transition: a locker that cannot CAS 0 -> tid calls
// FUTEX_LOCK_PI (the kernel queues it, boosts the owner, and hands the lock
// over, OWNER_DIED included); an owner that cannot CAS tid -> 0 calls
// FUTEX_UNLOCK_PI (with FUTEX_ROBUST_UNLOCK where the kernel has it). The
// uncontended release is the same try-unlock as for a plain lock.
#pragma once

#include <atomic>
#include <cstdint>

#include "../linux/futex.hpp"
#include "rfutex/detail/lock_storage.hpp"
#include "thread_state.hpp"

namespace rfutex::protocol {

enum class acquire_outcome : unsigned char {
  acquired,       // word holds our TID
  owner_died,     // word holds our TID; the previous owner died holding it
  busy,           // held by another thread and we were not to wait
  timed_out,      // the deadline passed while it was held by another thread
  self_deadlock,  // we hold it already; nothing changed
  deadlock_cycle,  // PI, untimed: the kernel found a cycle (the holder waits, directly or
                   // through other PI locks, for one we hold); nothing changed
  owner_gone,      // PI, untimed: the word's TID names no thread (word copied while held,
                   // or from another PID namespace); nothing changed
};

enum class wait_policy : unsigned char { no_wait, wait };

using detail::lock_kind;

struct deadline {
  sys::kernel_timespec at;  // absolute
  sys::futex_clock clock;
};

// Takes `word` for the calling thread. `until` (nullptr: forever) bounds the
// wait. Throws std::system_error only for an error of the futex call itself
// (e.g. EFAULT); `pending` is clear whenever it returns or throws.
acquire_outcome acquire(std::uint32_t* word, thread_state& me, lock_kind kind,
                        wait_policy policy, const deadline* until);

enum class release_outcome : unsigned char { released, not_owner };

// Releases `word`, held by the calling thread, and wakes up to `wake_count`
// waiters (1, or INT_MAX to wake all; a PI lock always hands over to its top
// waiter). not_owner when the word does not hold our TID — then nothing
// changed.
release_outcome release(std::uint32_t* word, thread_state& me, lock_kind kind, int wake_count);

// The second half of release(): `pending` is set and the node unlinked; does
// the strategy's release of the word (and its wake-up).
void finish_release(std::uint32_t* word, thread_state& me, lock_kind kind, int wake_count);

// FUTEX_WAKE of one waiter, out of line (the fast path's rare call).
void wake_one(std::uint32_t* word) noexcept;

// The TID bits of the word (0: free). relaxed: a snapshot for reporting; only
// the owner relies on its own TID, which no other thread can write.
inline std::uint32_t owner_of(const std::uint32_t* word) noexcept {
  return std::atomic_ref<std::uint32_t>(*const_cast<std::uint32_t*>(word))
             .load(std::memory_order_relaxed) &
         sys::futex_tid_mask;
}

}  // namespace rfutex::protocol
