// SPDX-License-Identifier: MIT
// rfutex::robust_lock — the owner-death-aware scoped lock.
//
//   rfutex::robust_lock lock(m);          // blocks; lock.status() says how
//   if (lock.owner_died()) {              // the last holder died mid-update
//     repair(data);
//     lock.make_consistent();
//   }
//   ... use data ...
//                                         // destructor unlocks
//
// What std::unique_lock cannot do: it keeps the acquisition's status, so
// owner death is visible where the lock is taken, and it never hides it. If
// the scope ends after an owner_died acquisition without make_consistent(),
// the destructor unlocks as POSIX prescribes: the mutex becomes not
// recoverable (every later lock() throws ENOTRECOVERABLE). That is the safe
// answer for data nobody repaired; repair and call make_consistent() to keep
// the mutex usable.
//
// Works with any rfutex lock type (robust_mutex, robust_pi_mutex) and with
// robust_condition_variable: `cv.wait(lock)` releases and re-acquires through
// it, and an owner death reported by the re-acquisition shows in
// lock.owner_died() (and in wait()'s result).
//
// Movable, not copyable. Errors are the mutex's (std::system_error).
#pragma once

#include <cerrno>
#include <chrono>
#include <mutex>  // std::defer_lock_t, std::try_to_lock_t, std::adopt_lock_t
#include <string>
#include <system_error>
#include <utility>

#include "rfutex/lock_status.hpp"

namespace rfutex {

template <class Mutex>
class [[nodiscard]] robust_lock {
 public:
  using mutex_type = Mutex;

  // Blocks until the calling thread holds `m`.
  explicit robust_lock(Mutex& m) : mutex_(&m) { lock(); }

  // Does not lock; lock() / try_lock*() later.
  robust_lock(Mutex& m, std::defer_lock_t) noexcept : mutex_(&m) {}

  // One try_lock(): owns_lock() tells whether it succeeded.
  robust_lock(Mutex& m, std::try_to_lock_t) : mutex_(&m) { (void)try_lock(); }

  // Takes over a lock the caller already holds, acquired with `how`.
  robust_lock(Mutex& m, std::adopt_lock_t, lock_status how = lock_status::acquired) noexcept
      : mutex_(&m), status_(to_try_status(how)), owns_(true) {}

  // try_lock_for / try_lock_until: owns_lock() is false on timeout.
  template <class Rep, class Period>
  robust_lock(Mutex& m, const std::chrono::duration<Rep, Period>& timeout) : mutex_(&m) {
    (void)try_lock_for(timeout);
  }
  template <class Clock, class Duration>
  robust_lock(Mutex& m, const std::chrono::time_point<Clock, Duration>& deadline) : mutex_(&m) {
    (void)try_lock_until(deadline);
  }

  robust_lock(robust_lock&& other) noexcept
      : mutex_(std::exchange(other.mutex_, nullptr)),
        status_(other.status_),
        owns_(std::exchange(other.owns_, false)) {}
  robust_lock& operator=(robust_lock&& other) noexcept(noexcept(std::declval<Mutex&>().unlock())) {
    if (this != &other) {
      if (owns_) mutex_->unlock();
      mutex_ = std::exchange(other.mutex_, nullptr);
      status_ = other.status_;
      owns_ = std::exchange(other.owns_, false);
    }
    return *this;
  }
  robust_lock(const robust_lock&) = delete;
  robust_lock& operator=(const robust_lock&) = delete;

  // Unlocks if held (after an unrepaired owner death: not recoverable, see
  // above). An unlock error in a destructor has nowhere to go and is
  // dropped; call unlock() to see it.
  ~robust_lock() {
    if (owns_) {
      try {
        mutex_->unlock();
      } catch (const std::system_error&) {
      }
    }
  }

  // Blocks until held; returns (and remembers) how. EDEADLK when this
  // robust_lock already holds it.
  lock_status lock() {
    const lock_status s = begin("lock").lock();
    status_ = to_try_status(s);
    owns_ = true;
    return s;
  }
  try_lock_result try_lock() { return remember(begin("try_lock").try_lock()); }
  template <class Rep, class Period>
  try_lock_result try_lock_for(const std::chrono::duration<Rep, Period>& timeout) {
    return remember(begin("try_lock_for").try_lock_for(timeout));
  }
  template <class Clock, class Duration>
  try_lock_result try_lock_until(const std::chrono::time_point<Clock, Duration>& deadline) {
    return remember(begin("try_lock_until").try_lock_until(deadline));
  }

  // Releases the mutex now. EPERM when not held.
  void unlock() {
    if (!owns_)
      throw std::system_error(EPERM, std::generic_category(), "rfutex::robust_lock::unlock: not held");
    owns_ = false;
    mutex_->unlock();
  }

  // The data is repaired: the mutex is consistent again. Only while held
  // (EPERM otherwise) after an owner_died acquisition (EINVAL otherwise,
  // from the mutex).
  void make_consistent() {
    if (!owns_)
      throw std::system_error(EPERM, std::generic_category(),
                              "rfutex::robust_lock::make_consistent: not held");
    mutex_->make_consistent();
    status_ = try_status::acquired;
  }

  // Gives up ownership without unlocking; returns the mutex.
  Mutex* release() noexcept {
    owns_ = false;
    return std::exchange(mutex_, nullptr);
  }

  [[nodiscard]] bool owns_lock() const noexcept { return owns_; }
  explicit operator bool() const noexcept { return owns_; }
  // Held, and the last holder died holding it; not yet made consistent.
  [[nodiscard]] bool owner_died() const noexcept { return owns_ && status_ == try_status::owner_died; }
  // How the last acquisition attempt ended (busy / timed_out when it failed).
  [[nodiscard]] try_status status() const noexcept { return status_; }
  [[nodiscard]] Mutex* mutex() const noexcept { return mutex_; }

 private:
  static constexpr try_status to_try_status(lock_status s) noexcept {
    return s == lock_status::owner_died ? try_status::owner_died : try_status::acquired;
  }
  void require_mutex(const char* op) const {
    if (mutex_ == nullptr)
      throw std::system_error(EPERM, std::generic_category(),
                              std::string("rfutex::robust_lock::") + op + ": no mutex");
  }
  Mutex& begin(const char* op) {
    require_mutex(op);
    if (owns_)
      throw std::system_error(EDEADLK, std::generic_category(),
                              std::string("rfutex::robust_lock::") + op + ": already held");
    return *mutex_;
  }
  try_lock_result remember(try_lock_result r) noexcept {
    status_ = r.status();
    owns_ = static_cast<bool>(r);
    return r;
  }

  Mutex* mutex_ = nullptr;
  try_status status_ = try_status::busy;
  bool owns_ = false;
};

template <class Mutex>
robust_lock(Mutex&) -> robust_lock<Mutex>;

}  // namespace rfutex
