// SPDX-License-Identifier: MIT
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
// Release:  pending = node; unlink node; <store 0 to word, wake>; pending = 0.
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
//   - guarded (older kernels): uncontended, the store and the clear in user
//     space; with waiters, futex(FUTEX_WAKE_OP) stores 0 and wakes them all,
//     then user space clears `pending`. The unmap guard clears a stale
//     `pending` before any unmap of its range (see README, Limitations).
//
// Liveness: no death leaves a waiter asleep on a free lock. A sleeper is in
// FUTEX_WAIT with `pending` pointing at the lock, after it saw the word held
// and FUTEX_WAITERS set; the holder's release must wake it. Who wakes it if a
// thread dies at any instruction:
//   - the holder dies holding it (or mid-release, before the word is freed):
//     the kernel finds our TID, stores OWNER_DIED|WAITERS and wakes one; the
//     word keeps FUTEX_WAITERS, so whoever takes it next wakes again.
//   - a woken waiter dies before it takes the word: if the word's owner part
//     is 0, its own `pending` makes the kernel wake the next waiter (every
//     kernel). If a third thread took the word meanwhile through the fast
//     path (no FUTEX_WAITERS), only Linux >= 7.2 wakes for it; older kernels
//     do nothing. So a release that wakes only one waiter is safe only where
//     the kernel's exit path is 7.2's (kernel, hybrid); the guarded release
//     of a plain lock wakes *every* sleeper instead, so no woken thread ever
//     carries another's wake-up.
//   - the releaser dies between its store of 0 and its FUTEX_WAKE: on 7.2 the
//     kernel strategies never have that instant (FUTEX_ROBUST_UNLOCK stores,
//     clears and wakes in one call); the guarded release has the kernel
//     store and wake in one call too (FUTEX_WAKE_OP "set 0"), so a death
//     falls before it (an owner death, above) or after it (everyone awake).
//   - a waiter that slept acquires with FUTEX_WAITERS, since a one-waiter
//     wake-up (kernel strategy, the kernel's owner-death path) may have left
//     others asleep; at worst its release wakes nobody.
//   - PI locks: waiters sleep in the kernel, which hands the lock over
//     (owner := top waiter, FUTEX_WAITERS kept while others wait) before the
//     waiter runs again, so a woken PI waiter's death is an owner death.
//   A free word may read FUTEX_WAITERS with owner part 0 (after an owner
//   death, or from a kernel that keeps the bit on release): acquire keeps the
//   bit, so the new owner's release wakes.
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

// Waits until `word` has no owner, without taking it: acquired means "free
// now" (the word is not ours). For locks whose waiters wait for a holder to
// leave rather than for the word itself (the readers of
// robust_shared_mutex). Sleeps like acquire() — FUTEX_WAITERS set, `pending`
// pointing at the word — and, having slept, wakes every other sleeper before
// it returns: the wake-up that reached it may have been meant for one
// thread only (a one-waiter release, or the kernel's owner-death wake-up),
// and it does not take the word, so it must pass it on. A death before
// that is covered by `pending` (the kernel wakes the next waiter of an
// ownerless word). busy / timed_out as acquire(); `pending` is clear
// whenever it returns or throws.
acquire_outcome await_free(std::uint32_t* word, thread_state& me, wait_policy policy,
                           const deadline* until);

enum class release_outcome : unsigned char { released, not_owner };

// Releases `word`, held by the calling thread, and wakes up to `wake_count`
// waiters (1, or INT_MAX to wake all) where the kernel's exit path passes a
// lost wake-up on (kernel, hybrid); the guarded release of a plain lock
// always wakes every sleeper, and a PI lock always hands over to its top
// waiter (see "Liveness" above). not_owner when the word does not hold our TID — then nothing
// changed.
release_outcome release(std::uint32_t* word, thread_state& me, lock_kind kind, int wake_count);

// The second half of release(): `pending` is set and the node unlinked; does
// the strategy's release of the word (and its wake-up).
void finish_release(std::uint32_t* word, thread_state& me, lock_kind kind, int wake_count);

// The TID bits of the word (0: free). relaxed: a snapshot for reporting; only
// the owner relies on its own TID, which no other thread can write.
inline std::uint32_t owner_of(const std::uint32_t* word) noexcept {
  return std::atomic_ref<std::uint32_t>(*const_cast<std::uint32_t*>(word))
             .load(std::memory_order_relaxed) &
         sys::futex_tid_mask;
}

}  // namespace rfutex::protocol
