// SPDX-License-Identifier: MIT
// robust_condition_variable: a sequence word and a sleeper count, nothing a
// dead participant could leave half-changed.
#include "rfutex/robust_condition_variable.hpp"

#include <atomic>
#include <cerrno>
#include <climits>
#include <string>
#include <system_error>

#include "linux/futex.hpp"

namespace rfutex {

namespace {

std::atomic_ref<std::uint32_t> atomic(std::uint32_t& v) { return std::atomic_ref<std::uint32_t>(v); }

}  // namespace

// seq_cst (here and in notify): a Dekker pair — the waiter reads the
// sequence then announces itself; the notifier advances the sequence then
// looks for sleepers. Either the notifier sees the sleeper and wakes it, or
// the sleeper's FUTEX_WAIT finds the sequence advanced and does not sleep.
std::uint32_t robust_condition_variable::begin_wait() noexcept {
  const std::uint32_t seen = atomic(sequence_).load(std::memory_order_seq_cst);
  atomic(sleepers_).fetch_add(1, std::memory_order_seq_cst);
  return seen;
}

void robust_condition_variable::abandon_wait() noexcept {
  // relaxed: the count is a hint for notify; nothing is ordered by it.
  atomic(sleepers_).fetch_sub(1, std::memory_order_relaxed);
}

void robust_condition_variable::fail_release(const std::system_error& e) {
  if (e.code().value() == EPERM)
    throw std::system_error(e.code(), "rfutex::robust_condition_variable::wait: the calling "
                                      "thread does not hold the mutex");
  throw std::system_error(e.code(), std::string("rfutex::robust_condition_variable::wait: ") +
                                        e.what());
}

bool robust_condition_variable::sleep(std::uint32_t seen, std::int64_t deadline_ns,
                                      clock_kind clock) {
  sys::kernel_timespec at{};
  if (clock != clock_kind::none) {
    if (deadline_ns < 0) deadline_ns = 0;
    at = {deadline_ns / 1'000'000'000, deadline_ns % 1'000'000'000};
  }
  // Leaves the sleeper count however the sleep ends, cancellation included.
  struct leave_on_exit {
    robust_condition_variable& cv;
    ~leave_on_exit() { cv.abandon_wait(); }
  } leave{*this};
  const long r = sys::futex_wait_cancellable(
      &sequence_, seen, clock == clock_kind::none ? nullptr : &at,
      clock == clock_kind::realtime ? sys::futex_clock::realtime : sys::futex_clock::monotonic);
  if (r == -ETIMEDOUT) return false;
  if (r < 0 && r != -EAGAIN && r != -EINTR)
    throw std::system_error(static_cast<int>(-r), std::generic_category(),
                            "rfutex::robust_condition_variable::wait: FUTEX_WAIT");
  return true;  // notified, or spuriously: the caller re-checks its predicate
}

void robust_condition_variable::notify_one() noexcept {
  atomic(sequence_).fetch_add(1, std::memory_order_seq_cst);
  if (atomic(sleepers_).load(std::memory_order_seq_cst) != 0) sys::futex_wake(&sequence_, 1);
}

void robust_condition_variable::notify_all() noexcept {
  atomic(sequence_).fetch_add(1, std::memory_order_seq_cst);
  if (atomic(sleepers_).load(std::memory_order_seq_cst) != 0) sys::futex_wake(&sequence_, INT_MAX);
}

}  // namespace rfutex
