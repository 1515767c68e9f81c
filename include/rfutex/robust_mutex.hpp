// SPDX-License-Identifier: MIT
// rfutex::robust_mutex — a robust, process-shared mutex whose unlock cannot
// make the kernel write into memory that was unmapped and replaced — and
// rfutex::robust_pi_mutex, the same with priority inheritance.
//
// Put it in memory shared by processes (memfd, shm_open, a mapped file) or
// anywhere else; zero-filled bytes are an unlocked mutex, so a fresh shared
// mapping needs no initialisation. Its 40 bytes are the same in 64-bit and
// 32-bit processes (rfutex/detail/lock_storage.hpp, docs/layout.md).
//
// When an owner dies holding it (crash, SIGKILL, thread exit), the kernel marks
// it and the next locker *acquires* it with lock_status::owner_died: the data
// may be half-updated. Repair it, then call make_consistent(). Unlocking
// without make_consistent() makes the mutex permanently unusable: every later
// lock attempt fails with ENOTRECOVERABLE, as POSIX robust mutexes do.
//
// Errors are std::system_error with the POSIX errno (docs/errors.md lists
// them per function):
//   EDEADLK           lock by the thread that holds it ("the calling thread
//                     holds it"); robust_pi_mutex::lock() only: the kernel
//                     found a deadlock cycle ("a deadlock cycle was
//                     detected": the holder waits, directly or through other
//                     PI locks, for one the caller holds). Timed locks never
//                     report a cycle: they time out.
//   EPERM             unlock / make_consistent by a thread that does not hold it
//   ENOTRECOVERABLE   an earlier holder unlocked after an owner death without
//                     make_consistent()
//   EINVAL            make_consistent on a consistent mutex; bytes that are
//                     not a usable lock: a misaligned address ("misaligned"),
//                     a destroyed mutex ("destroyed"), a state field or owner
//                     TID no lock holds (e.g. 0xff-filled memory)
//   ESRCH             robust_pi_mutex::lock() only: the holder's TID names no
//                     thread (see "Copied lock words" below)
//   ENOSYS / EINVAL   RFUTEX_UNLOCK asks for a strategy the kernel lacks / no strategy
// Failed calls change nothing. Memory that is not writable (read-only, or a
// PROT_READ mapping) is not refused but faults: SIGSEGV, as with
// pthread_mutex_lock, on the first store to the lock.
//
// Copied lock words. The word holds its holder's TID. Bytes copied while held
// (restored from a snapshot, checkpointed, or mapped from another PID
// namespace) name a TID that may belong to no thread here: nobody will ever
// unlock them. robust_mutex::lock() then waits (a plain lock cannot tell such
// a holder from a live one in another PID namespace) and timed locks time
// out; robust_pi_mutex::lock() fails with ESRCH (the kernel must find the
// holder to boost it) and its timed locks time out. owner_alive() tells the
// caller whether the holder's TID names a live thread in its own namespace;
// zero the bytes (with no process using them) to start afresh.
//
// robust_pi_mutex (rfutex/robust_pi_mutex.hpp) has the same interface and
// layout; its contended lock and unlock go through the kernel
// (FUTEX_LOCK_PI / FUTEX_UNLOCK_PI), which queues waiters by priority and
// boosts the owner. A lock's bytes are one kind or the other for its whole
// life: never use the same bytes as both.
//
// Satisfies the standard Lockable and TimedLockable requirements, so
// std::unique_lock, std::scoped_lock and std::try_lock work with it (they
// cannot report owner death; check consistent() after locking through them).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <type_traits>

#include "rfutex/detail/lock_storage.hpp"
#include "rfutex/lock_status.hpp"

namespace rfutex {

template <detail::lock_kind Kind>
class basic_robust_mutex {
 public:
  constexpr basic_robust_mutex() noexcept = default;
  basic_robust_mutex(const basic_robust_mutex&) = delete;
  basic_robust_mutex& operator=(const basic_robust_mutex&) = delete;
  // Destroying the mutex runs the unmap guard over its bytes (they may be
  // reused for other data without any unmap). Destroy it only when no thread
  // holds it or waits for it. Objects in shared memory need not be destroyed
  // by every process: once, by the last user, before the bytes are reused.
  // A free mutex is left poisoned (docs/layout.md): until the bytes are
  // zeroed or a mutex constructed there again, every use fails with EINVAL
  // ("destroyed"). A held one is left as it is.
  ~basic_robust_mutex();

  // Blocks until the calling thread holds the mutex.
  [[nodiscard]] lock_status lock();

  // Takes the mutex if no other thread holds it; never blocks.
  [[nodiscard]] try_lock_result try_lock();

  // As lock(), giving up with try_status::timed_out once `timeout` has passed
  // (measured on the monotonic clock). A free mutex is taken even when the
  // timeout is zero or negative.
  template <class Rep, class Period>
  [[nodiscard]] try_lock_result try_lock_for(const std::chrono::duration<Rep, Period>& timeout);

  // As lock(), giving up once `deadline` has passed on `Clock`. steady_clock
  // deadlines are kernel CLOCK_MONOTONIC deadlines (immune to wall-clock
  // changes); system_clock deadlines are CLOCK_REALTIME ones (they follow
  // them, as POSIX timed locks do); other clocks are polled through
  // steady_clock.
  template <class Clock, class Duration>
  [[nodiscard]] try_lock_result try_lock_until(
      const std::chrono::time_point<Clock, Duration>& deadline);

  // Releases the mutex and wakes a waiter. After an owner_died acquisition
  // without make_consistent(), marks the mutex not recoverable and wakes
  // every waiter (each gets ENOTRECOVERABLE).
  void unlock();

  // Declares the protected data repaired after an owner_died acquisition.
  // Only the holder may call it.
  void make_consistent();

  // False from an owner_died acquisition until make_consistent() (and for
  // ever once not recoverable). Meaningful to the holder.
  [[nodiscard]] bool consistent() const noexcept;

  // TID of the current holder (in the holder's PID namespace), 0 when free.
  // A snapshot: for diagnostics such as "who holds this lock?".
  [[nodiscard]] pid_t owner() const noexcept;

  // True when the mutex is held and its holder's TID names a live thread in
  // the caller's PID namespace. False when free, or when the TID names no
  // thread: the word was copied while held, or comes from another PID
  // namespace, or its holder's exit is still being processed. A snapshot
  // (TIDs are reused): a diagnostic, never a reason to take over a lock.
  [[nodiscard]] bool owner_alive() const noexcept;

 private:
  enum class clock_kind : unsigned char { monotonic, realtime };
  try_lock_result try_lock_until_ns(std::int64_t ns_since_epoch, clock_kind clock);
  try_lock_result lock_for_ever_as_try();
  // The out-of-line rest of lock()/unlock(): everything but the uncontended
  // case (first use on a thread, waiting, owner death, errors).
  lock_status lock_slow();
  lock_status lock_taken_but_not_consistent();
  void unlock_slow();

  detail::lock_storage storage_;
};

using robust_mutex = basic_robust_mutex<detail::lock_kind::plain>;
extern template class basic_robust_mutex<detail::lock_kind::plain>;
extern template class basic_robust_mutex<detail::lock_kind::priority_inheritance>;

static_assert(sizeof(robust_mutex) == sizeof(detail::lock_storage) &&
              alignof(robust_mutex) == alignof(detail::lock_storage));
static_assert(std::is_standard_layout_v<robust_mutex>);

template <detail::lock_kind Kind>
template <class Rep, class Period>
try_lock_result basic_robust_mutex<Kind>::try_lock_for(const std::chrono::duration<Rep, Period>& timeout) {
  using namespace std::chrono;
  // Anything beyond ~100 years is "for ever" (and would overflow nanoseconds).
  if (duration<long double>(timeout) > duration<long double>(hours(24 * 365 * 100)))
    return lock_for_ever_as_try();
  return try_lock_until(steady_clock::now() + ceil<nanoseconds>(timeout));
}

template <detail::lock_kind Kind>
template <class Clock, class Duration>
try_lock_result basic_robust_mutex<Kind>::try_lock_until(
    const std::chrono::time_point<Clock, Duration>& deadline) {
  using namespace std::chrono;
  if constexpr (std::is_same_v<Clock, steady_clock> || std::is_same_v<Clock, system_clock>) {
    const auto ns = time_point_cast<nanoseconds>(deadline).time_since_epoch().count();
    return try_lock_until_ns(static_cast<std::int64_t>(ns),
                             std::is_same_v<Clock, steady_clock> ? clock_kind::monotonic
                                                                 : clock_kind::realtime);
  } else {
    for (;;) {
      const auto now = Clock::now();
      if (now >= deadline) return try_lock();
      const try_lock_result r = try_lock_for(deadline - now);
      if (r || Clock::now() >= deadline) return r;
    }
  }
}

}  // namespace rfutex
