// SPDX-License-Identifier: MIT
// robust_mutex and robust_pi_mutex: owner-death and consistency rules on top
// of the lock protocol.
#include "rfutex/robust_mutex.hpp"

#include "rfutex/robust_pi_mutex.hpp"
#include "rfutex/unmap.hpp"

#include <atomic>
#include <cerrno>
#include <climits>
#include <string>
#include <system_error>

#include "protocol/fast_path.hpp"
#include "protocol/lock_protocol.hpp"
#include "protocol/misaligned.hpp"
#include "linux/thread_liveness.hpp"
#include "protocol/thread_state.hpp"

namespace rfutex {

namespace {

using detail::state_consistent;
using detail::state_destroyed;
using detail::state_inconsistent;
using detail::state_not_recoverable;

using detail::tid_limit;
constexpr const char* not_recoverable_cause =
    "an earlier holder unlocked it after an owner death without calling make_consistent()";

constexpr const char* name_of(detail::lock_kind kind) {
  return kind == detail::lock_kind::plain ? "rfutex::robust_mutex" : "rfutex::robust_pi_mutex";
}

// Throws std::system_error(error) for operation `op` of a lock of `kind`,
// with `why` appended when given.
[[noreturn]] void fail(int error, detail::lock_kind kind, const char* op, const char* why = nullptr) {
  std::string what = std::string(name_of(kind)) + "::" + op;
  if (why != nullptr) what += std::string(": ") + why;
  throw std::system_error(error, std::generic_category(), what);
}

// The consistency state is written only by the holder; readers that hold the
// mutex see it through the acquire on the word.
std::atomic_ref<std::uint32_t> state_of(detail::lock_storage& s) {
  return std::atomic_ref<std::uint32_t>(s.state);
}

bool misaligned(const detail::lock_storage& s) {
  return protocol::misaligned(&s, alignof(detail::lock_storage));
}

// Refuses bytes that cannot be a usable rfutex lock, before anything waits on
// or writes to them: a misaligned address (the kernel refuses such a futex,
// and a split atomic is not one), a destroyed lock, a state field or an owner
// TID outside what any lock holds. Only on slow paths: a free, consistent,
// aligned lock (the fast path's case) always passes.
void reject_bad_bytes(detail::lock_storage& s, detail::lock_kind kind, const char* op) {
  if (misaligned(s))
    fail(EINVAL, kind, op, "the lock's address is misaligned (rfutex locks are 8-byte aligned)");
  // relaxed: a snapshot to refuse garbage; the protocol decides with CASes.
  const std::uint32_t state = state_of(s).load(std::memory_order_relaxed);
  if (state == state_destroyed) fail(EINVAL, kind, op, "the lock was destroyed");
  if (state > state_not_recoverable)
    fail(EINVAL, kind, op, "these bytes are not an rfutex lock (its state field holds no state)");
  if (protocol::owner_of(&s.word) >= tid_limit)
    fail(EINVAL, kind, op, "these bytes are not an rfutex lock (its word holds no thread ID)");
}

// Finishes an acquisition the protocol reported: applies the owner-death and
// not-recoverable rules. Throws ENOTRECOVERABLE (after letting go again).
try_status finish_acquire(detail::lock_storage& s, protocol::thread_state& me,
                          detail::lock_kind kind, protocol::acquire_outcome outcome,
                          const char* op) {
  using protocol::acquire_outcome;
  switch (outcome) {
    case acquire_outcome::busy: return try_status::busy;
    case acquire_outcome::timed_out: return try_status::timed_out;
    case acquire_outcome::self_deadlock: fail(EDEADLK, kind, op, "the calling thread holds it");
    case acquire_outcome::deadlock_cycle:
      fail(EDEADLK, kind, op,
           "a deadlock cycle was detected (its holder waits, directly or through other locks, "
           "for a lock the calling thread holds)");
    case acquire_outcome::owner_gone:
      fail(ESRCH, kind, op,
           "its holder's thread ID names no thread (the lock word was copied while held, or "
           "comes from another PID namespace); see owner_alive()");
    case acquire_outcome::acquired:
    case acquire_outcome::owner_died: break;
  }
  // relaxed: we hold the mutex; the acquire on the word ordered this load.
  const std::uint32_t state = state_of(s).load(std::memory_order_relaxed);
  if (state == state_not_recoverable) {
    // Pass the news on: wake everyone, each finds the same state.
    protocol::release(&s.word, me, kind, INT_MAX);
    fail(ENOTRECOVERABLE, kind, op, not_recoverable_cause);
  }
  if (state > state_not_recoverable) {
    // Taken by the fast path from a free word beside a state no lock has
    // (destroyed, or garbage): let go and refuse.
    protocol::release(&s.word, me, kind, 1);
    fail(EINVAL, kind, op,
         state == state_destroyed ? "the lock was destroyed"
                                  : "these bytes are not an rfutex lock (its state field holds "
                                    "no state)");
  }
  // Inconsistent without OWNER_DIED in the word: a holder that acquired with
  // owner_died gave the lock back unrepaired without unlocking it for good
  // (robust_shared_mutex's writer, when it cannot wait for the readers).
  if (outcome == acquire_outcome::owner_died ||
      state_of(s).load(std::memory_order_relaxed) == state_inconsistent) {
    // relaxed: published to the next holder by our release of the word.
    state_of(s).store(state_inconsistent, std::memory_order_relaxed);
    return try_status::owner_died;
  }
  return try_status::acquired;
}

// Cheap early answer for a mutex already declared not recoverable; the
// authoritative check is the one made while holding it (finish_acquire).
void reject_if_not_recoverable(detail::lock_storage& s, detail::lock_kind kind, const char* op) {
  // acquire: pairs with the release of the word by the holder that set it.
  if (state_of(s).load(std::memory_order_acquire) == state_not_recoverable)
    fail(ENOTRECOVERABLE, kind, op, not_recoverable_cause);
}

protocol::deadline to_deadline(std::int64_t ns, bool realtime) {
  if (ns < 0) ns = 0;  // before the clock's epoch: already passed
  return {{ns / 1'000'000'000, ns % 1'000'000'000},
          realtime ? sys::futex_clock::realtime : sys::futex_clock::monotonic};
}

// One acquisition attempt of any flavour, with the rules applied.
try_status acquire(detail::lock_storage& s, detail::lock_kind kind, protocol::wait_policy policy,
                   const protocol::deadline* until, const char* op) {
  auto& me = protocol::current_thread();
  reject_bad_bytes(s, kind, op);
  reject_if_not_recoverable(s, kind, op);
  const auto outcome = protocol::acquire(&s.word, me, kind, policy, until);
  return finish_acquire(s, me, kind, outcome, op);
}

}  // namespace

template <detail::lock_kind Kind>
basic_robust_mutex<Kind>::~basic_robust_mutex() {
  scrub_pending(&storage_, sizeof storage_);
  if (misaligned(storage_)) return;
  // A free lock (no TID: never used, unlocked, or its owner died) becomes the
  // poison; a held one is left as it is (destroying it is the caller's error,
  // and its waiters must still be woken by its holder). relaxed: destruction
  // needs every user gone, and whatever told them so orders it.
  std::atomic_ref<std::uint32_t> word(storage_.word);
  std::uint32_t v = word.load(std::memory_order_relaxed);
  while ((v & sys::futex_tid_mask) == 0)
    if (word.compare_exchange_weak(v, detail::word_destroyed, std::memory_order_relaxed)) {
      state_of(storage_).store(state_destroyed, std::memory_order_relaxed);
      return;
    }
}

// lock() and unlock() keep the uncontended case free of calls, so that it
// needs no stack frame; every other case is a tail call to a *_slow function.
template <detail::lock_kind Kind>
lock_status basic_robust_mutex<Kind>::lock() {
  protocol::thread_state& me = protocol::tls_thread_state;
  // The alignment test is the one check the fast path adds: a misaligned
  // word's CAS would succeed (as a split lock) where the kernel refuses it.
  if (__builtin_expect(me.tid != 0, 1) && __builtin_expect(!misaligned(storage_), 1) &&
      __builtin_expect(protocol::acquire_fast(&storage_.word, me, Kind), 1)) {
    // relaxed: we hold the word now (acquire CAS).
    if (__builtin_expect(state_of(storage_).load(std::memory_order_relaxed) == state_consistent, 1))
      return lock_status::acquired;
    return lock_taken_but_not_consistent();
  }
  return lock_slow();
}

template <detail::lock_kind Kind>
[[gnu::noinline]] lock_status basic_robust_mutex<Kind>::lock_slow() {
  return acquire(storage_, Kind, protocol::wait_policy::wait, nullptr, "lock") ==
                 try_status::owner_died
             ? lock_status::owner_died
             : lock_status::acquired;
}

template <detail::lock_kind Kind>
[[gnu::noinline]] lock_status basic_robust_mutex<Kind>::lock_taken_but_not_consistent() {
  // not recoverable: lets go and throws; inconsistent: owner_died.
  return finish_acquire(storage_, protocol::tls_thread_state, Kind,
                        protocol::acquire_outcome::acquired, "lock") == try_status::owner_died
             ? lock_status::owner_died
             : lock_status::acquired;
}

template <detail::lock_kind Kind>
try_lock_result basic_robust_mutex<Kind>::try_lock() {
  auto& me = protocol::current_thread();
  if (__builtin_expect(!misaligned(storage_), 1) &&
      __builtin_expect(protocol::acquire_fast(&storage_.word, me, Kind), 1)) {
    // relaxed: we hold the word now (acquire CAS).
    if (__builtin_expect(state_of(storage_).load(std::memory_order_relaxed) == state_consistent, 1))
      return try_lock_result(try_status::acquired);
    return try_lock_result(
        finish_acquire(storage_, me, Kind, protocol::acquire_outcome::acquired, "try_lock"));
  }
  return try_lock_result(acquire(storage_, Kind, protocol::wait_policy::no_wait, nullptr, "try_lock"));
}

template <detail::lock_kind Kind>
try_lock_result basic_robust_mutex<Kind>::try_lock_until_ns(std::int64_t ns, clock_kind clock) {
  const protocol::deadline until = to_deadline(ns, clock == clock_kind::realtime);
  return try_lock_result(
      acquire(storage_, Kind, protocol::wait_policy::wait, &until, "try_lock_until"));
}

template <detail::lock_kind Kind>
try_lock_result basic_robust_mutex<Kind>::lock_for_ever_as_try() {
  return try_lock_result(lock() == lock_status::owner_died ? try_status::owner_died
                                                           : try_status::acquired);
}

template <detail::lock_kind Kind>
void basic_robust_mutex<Kind>::unlock() {
  protocol::thread_state& me = protocol::tls_thread_state;
  const std::uint32_t tid = me.tid;
  // relaxed (state): we hold the mutex; the release of the word publishes
  // any change to it.
  if (__builtin_expect(tid != 0 && protocol::owner_of(&storage_.word) == tid &&
                           state_of(storage_).load(std::memory_order_relaxed) == state_consistent,
                       1)) {
    protocol::release_fast(&storage_.word, me, Kind);
    return;
  }
  unlock_slow();
}

template <detail::lock_kind Kind>
[[gnu::noinline]] void basic_robust_mutex<Kind>::unlock_slow() {
  auto& me = protocol::current_thread();
  // Neither check costs the fast path: no lock call takes a misaligned,
  // destroyed or garbage lock, so such a lock never holds our TID there.
  reject_bad_bytes(storage_, Kind, "unlock");
  if (protocol::owner_of(&storage_.word) != me.tid)
    fail(EPERM, Kind, "unlock", "the calling thread does not hold the mutex");
  if (state_of(storage_).load(std::memory_order_relaxed) == state_inconsistent) {
    // Unlocked without repair: the data is lost for good. Every waiter
    // must wake up to learn it.
    state_of(storage_).store(state_not_recoverable, std::memory_order_relaxed);
    protocol::release(&storage_.word, me, Kind, INT_MAX);
    return;
  }
  protocol::release_fast(&storage_.word, me, Kind);
}

template <detail::lock_kind Kind>
void basic_robust_mutex<Kind>::make_consistent() {
  auto& me = protocol::current_thread();
  reject_bad_bytes(storage_, Kind, "make_consistent");
  if (protocol::owner_of(&storage_.word) != me.tid)
    fail(EPERM, Kind, "make_consistent", "the calling thread does not hold the mutex");
  auto state = state_of(storage_);
  // relaxed: we hold it.
  if (state.load(std::memory_order_relaxed) != state_inconsistent)
    fail(EINVAL, Kind, "make_consistent", "the mutex is not inconsistent");
  state.store(state_consistent, std::memory_order_relaxed);
}

template <detail::lock_kind Kind>
bool basic_robust_mutex<Kind>::consistent() const noexcept {
  auto& s = const_cast<detail::lock_storage&>(storage_);
  return state_of(s).load(std::memory_order_relaxed) == state_consistent;
}

template <detail::lock_kind Kind>
pid_t basic_robust_mutex<Kind>::owner() const noexcept {
  return static_cast<pid_t>(protocol::owner_of(&storage_.word));
}

template <detail::lock_kind Kind>
bool basic_robust_mutex<Kind>::owner_alive() const noexcept {
  const pid_t tid = owner();
  if (tid == 0 || static_cast<std::uint32_t>(tid) >= tid_limit) return false;
  return sys::thread_exists(tid);
}

template class basic_robust_mutex<detail::lock_kind::plain>;
template class basic_robust_mutex<detail::lock_kind::priority_inheritance>;

}  // namespace rfutex
