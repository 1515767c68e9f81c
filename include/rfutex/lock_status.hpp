// SPDX-License-Identifier: MIT
// Outcomes of acquiring an rfutex lock.
//
// Owner death is a *successful* acquisition with its own result: the caller
// holds the lock, and the data it protects may be half-updated. Nothing is
// made consistent behind the caller's back (see robust_mutex::make_consistent).
#pragma once

namespace rfutex {

enum class lock_status : unsigned char {
  acquired,    // the lock is ours and its data consistent
  owner_died,  // the lock is ours; the previous owner died holding it
};

enum class try_status : unsigned char {
  acquired,    // as lock_status::acquired
  owner_died,  // as lock_status::owner_died
  busy,        // another thread holds it (try_lock)
  timed_out,   // the deadline passed first (try_lock_for / try_lock_until)
};

// Result of try_lock, try_lock_for and try_lock_until. Converts to `true`
// exactly when the caller now holds the lock (acquired or owner_died), so that
// std::unique_lock, std::try_lock and std::scoped_lock accept the lock types;
// code that cares about owner death asks owner_died() or status().
class [[nodiscard]] try_lock_result {
 public:
  constexpr explicit try_lock_result(try_status s) noexcept : status_(s) {}

  // Implicit on purpose: the standard Lockable requirements need it.
  constexpr operator bool() const noexcept {  // NOLINT(google-explicit-constructor)
    return status_ == try_status::acquired || status_ == try_status::owner_died;
  }
  constexpr try_status status() const noexcept { return status_; }
  constexpr bool owner_died() const noexcept { return status_ == try_status::owner_died; }

 private:
  try_status status_;
};

}  // namespace rfutex
