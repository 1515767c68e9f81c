// SPDX-License-Identifier: MIT
// rfutex::robust_condition_variable — a process-shared condition variable
// that the death of any participant cannot break.
//
// It keeps no waiter list and takes no internal lock: 8 bytes, a sequence
// word that every notify advances and waiters sleep on (FUTEX_WAIT), and a
// count of sleepers that only lets notify skip the system call when nobody
// sleeps. A waiter or notifier killed at any instant leaves nothing to
// repair: other waiters are still woken, later waits and notifies work.
// (A killed waiter may leave the count high; notifies then always make the
// system call — slower, never wrong. A notifier killed inside notify may or
// may not have woken anyone, as if it had died just before or just after.)
// Zero-filled bytes are a ready condition variable, in any process.
//
// Use it with rfutex::robust_mutex or robust_pi_mutex (any type with
// lock() -> lock_status and unlock()). wait() returns the mutex's
// lock_status: owner_died when the mutex's holder died while we slept —
// the caller then holds the mutex and must repair, as after lock().
// Spurious wake-ups happen (as with every condition variable): wait in a
// loop on the predicate, or use the predicate overloads.
//
// Errors: std::system_error — EPERM when the caller does not hold the mutex
// (nothing changed; the message names robust_condition_variable::wait), the
// mutex's own errors on releasing it (EINVAL: misaligned, destroyed, not a
// lock; nothing changed) and on re-locking (ENOTRECOVERABLE: the mutex is not
// held then). docs/errors.md lists them.
//
// Cancellation: wait(), wait_until() and wait_for() are cancellation points,
// as pthread_cond_wait is. A pthread_cancel of a waiter (deferred, or
// asynchronous) acts while it sleeps: the mutex is re-acquired before the
// stack unwinds, so cleanup handlers (pthread_cleanup_push) and destructors
// find it held by the cancelled thread and must unlock it. The acquisition's
// status is not reported then: such a handler asks consistent(). (If the
// re-acquisition itself fails, e.g. ENOTRECOVERABLE, the unwind goes on with
// the mutex not held.) The same holds when the sleep throws.
#pragma once

#include <chrono>
#include <concepts>
#include <condition_variable>  // std::cv_status
#include <cstdint>
#include <exception>
#include <system_error>
#include <type_traits>

#include "rfutex/lock_status.hpp"

namespace rfutex {

// What wait() needs of a mutex: lock() reporting a lock_status, unlock().
// rfutex::robust_mutex, robust_pi_mutex and rfutex::robust_lock are such; a
// std::unique_lock is not (its lock() reports nothing).
template <class M>
concept robust_wait_mutex = requires(M& m) {
  { m.lock() } -> std::same_as<lock_status>;
  m.unlock();
};

// The outcome of a timed wait: whether it timed out, and how the mutex was
// re-acquired.
struct [[nodiscard]] cv_wait_result {
  std::cv_status status;
  lock_status lock;
};

class robust_condition_variable {
 public:
  constexpr robust_condition_variable() noexcept = default;
  robust_condition_variable(const robust_condition_variable&) = delete;
  robust_condition_variable& operator=(const robust_condition_variable&) = delete;

  // Wakes one waiter / every waiter (of any process). Never blocks; safe with
  // or without the mutex held.
  void notify_one() noexcept;
  void notify_all() noexcept;

  // Releases `m` (held by the caller), sleeps until notified (or
  // spuriously), re-acquires `m`. The two steps are atomic with respect to
  // notify: a notify after the caller released `m` is never missed.
  template <class Mutex>
  [[nodiscard]] lock_status wait(Mutex& m);

  // wait() until pred() holds (checked with `m` held). Returns the status of
  // the last acquisition; if any re-acquisition reported owner_died, the
  // loop stops there and returns owner_died (pred is not consulted on
  // possibly inconsistent data).
  template <class Mutex, class Predicate>
  [[nodiscard]] lock_status wait(Mutex& m, Predicate pred);

  // As wait(), giving up at `deadline` (steady_clock: CLOCK_MONOTONIC,
  // system_clock: CLOCK_REALTIME; other clocks through steady_clock). `m`
  // is re-acquired in every case.
  template <class Mutex, class Clock, class Duration>
  cv_wait_result wait_until(Mutex& m, const std::chrono::time_point<Clock, Duration>& deadline);

  template <class Mutex, class Rep, class Period>
  cv_wait_result wait_for(Mutex& m, const std::chrono::duration<Rep, Period>& timeout) {
    return wait_until(m, std::chrono::steady_clock::now() +
                             std::chrono::ceil<std::chrono::nanoseconds>(timeout));
  }

 private:
  enum class clock_kind : unsigned char { none, monotonic, realtime };
  // The parts around the mutex's unlock/lock; see the .cpp.
  std::uint32_t begin_wait() noexcept;
  void abandon_wait() noexcept;
  // true: woken or spurious; false: the deadline passed. A cancellation
  // point (not noexcept: a cancellation unwinds through it).
  bool sleep(std::uint32_t seen, std::int64_t deadline_ns, clock_kind clock);
  // The mutex's unlock failed: the error, reported as wait()'s own.
  [[noreturn]] static void fail_release(const std::system_error& e);

  template <class Mutex>
  lock_status release_sleep_reacquire(Mutex& m, std::int64_t deadline_ns, clock_kind clock,
                                      bool& woken);

  std::uint32_t sequence_ = 0;  // +0: advanced by every notify; waiters sleep on it
  std::uint32_t sleepers_ = 0;  // +4: waiters between begin_wait and waking (a hint)
};

static_assert(sizeof(robust_condition_variable) == 8);

template <class Mutex>
lock_status robust_condition_variable::release_sleep_reacquire(Mutex& m, std::int64_t deadline_ns,
                                                               clock_kind clock, bool& woken) {
  static_assert(robust_wait_mutex<Mutex>,
                "rfutex::robust_condition_variable::wait takes the mutex itself (an "
                "rfutex::robust_mutex or robust_pi_mutex) or an rfutex::robust_lock: a type "
                "whose lock() returns rfutex::lock_status. A std::unique_lock cannot report "
                "owner death: pass the mutex it holds, or use rfutex::robust_lock");
  if constexpr (robust_wait_mutex<Mutex>) {
    const std::uint32_t seen = begin_wait();
    try {
      m.unlock();  // EPERM when the caller does not hold it: nothing changed
    } catch (const std::system_error& e) {
      abandon_wait();
      fail_release(e);
    }
    try {
      woken = sleep(seen, deadline_ns, clock);
    } catch (...) {
      // Cancelled (glibc's forced unwind, rethrown below, never swallowed) or
      // a futex error: hold the mutex again before unwinding further. An
      // error of the re-lock must not replace a cancellation's unwind.
      try {
        (void)m.lock();
      } catch (const std::exception&) {
      }
      throw;
    }
    return m.lock();
  } else {
    return lock_status::acquired;  // unreachable: the static_assert has failed
  }
}

template <class Mutex>
lock_status robust_condition_variable::wait(Mutex& m) {
  bool woken = false;
  return release_sleep_reacquire(m, 0, clock_kind::none, woken);
}

template <class Mutex, class Predicate>
lock_status robust_condition_variable::wait(Mutex& m, Predicate pred) {
  while (!pred()) {
    const lock_status s = wait(m);
    if (s == lock_status::owner_died) return s;
  }
  return lock_status::acquired;
}

template <class Mutex, class Clock, class Duration>
cv_wait_result robust_condition_variable::wait_until(
    Mutex& m, const std::chrono::time_point<Clock, Duration>& deadline) {
  using namespace std::chrono;
  bool woken = false;
  if constexpr (std::is_same_v<Clock, steady_clock> || std::is_same_v<Clock, system_clock>) {
    const auto ns = time_point_cast<nanoseconds>(deadline).time_since_epoch().count();
    const lock_status s = release_sleep_reacquire(
        m, static_cast<std::int64_t>(ns),
        std::is_same_v<Clock, steady_clock> ? clock_kind::monotonic : clock_kind::realtime, woken);
    return {woken ? std::cv_status::no_timeout : std::cv_status::timeout, s};
  } else {
    const auto steady_deadline =
        steady_clock::now() + ceil<nanoseconds>(deadline - Clock::now());
    const cv_wait_result r = wait_until(m, steady_deadline);
    return {Clock::now() < deadline ? std::cv_status::no_timeout : std::cv_status::timeout, r.lock};
  }
}

}  // namespace rfutex
