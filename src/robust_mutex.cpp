// robust_mutex: owner-death and consistency rules on top of the lock protocol.
#include "rfutex/robust_mutex.hpp"

#include "rfutex/unmap.hpp"

#include <atomic>
#include <cerrno>
#include <climits>
#include <system_error>

#include "protocol/lock_protocol.hpp"
#include "protocol/thread_state.hpp"

namespace rfutex {

namespace {

using detail::state_consistent;
using detail::state_inconsistent;
using detail::state_not_recoverable;

[[noreturn]] void fail(int error, const char* what) {
  throw std::system_error(error, std::generic_category(), what);
}

// The consistency state is written only by the holder; readers that hold the
// mutex see it through the acquire on the word.
std::atomic_ref<std::uint32_t> state_of(detail::lock_storage& s) {
  return std::atomic_ref<std::uint32_t>(s.state);
}

// Finishes an acquisition the protocol reported: applies the owner-death and
// not-recoverable rules. Throws ENOTRECOVERABLE (after letting go again).
try_status finish_acquire(detail::lock_storage& s, protocol::thread_state& me,
                          protocol::acquire_outcome outcome, const char* what) {
  using protocol::acquire_outcome;
  switch (outcome) {
    case acquire_outcome::busy: return try_status::busy;
    case acquire_outcome::timed_out: return try_status::timed_out;
    case acquire_outcome::self_deadlock: fail(EDEADLK, what);
    case acquire_outcome::acquired:
    case acquire_outcome::owner_died: break;
  }
  // relaxed: we hold the mutex; the acquire on the word ordered this load.
  if (state_of(s).load(std::memory_order_relaxed) == state_not_recoverable) {
    // Pass the news on: wake everyone, each finds the same state.
    protocol::release(&s.word, me, INT_MAX);
    fail(ENOTRECOVERABLE, what);
  }
  if (outcome == acquire_outcome::owner_died) {
    // relaxed: published to the next holder by our release of the word.
    state_of(s).store(state_inconsistent, std::memory_order_relaxed);
    return try_status::owner_died;
  }
  return try_status::acquired;
}

// Cheap early answer for a mutex already declared not recoverable; the
// authoritative check is the one made while holding it (finish_acquire).
void reject_if_not_recoverable(detail::lock_storage& s, const char* what) {
  // acquire: pairs with the release of the word by the holder that set it.
  if (state_of(s).load(std::memory_order_acquire) == state_not_recoverable)
    fail(ENOTRECOVERABLE, what);
}

protocol::deadline to_deadline(std::int64_t ns, bool realtime) {
  if (ns < 0) ns = 0;  // before the clock's epoch: already passed
  return {{ns / 1'000'000'000, ns % 1'000'000'000},
          realtime ? sys::futex_clock::realtime : sys::futex_clock::monotonic};
}

}  // namespace

robust_mutex::~robust_mutex() { scrub_pending(&storage_, sizeof storage_); }

lock_status robust_mutex::lock() {
  constexpr const char* what = "rfutex::robust_mutex::lock";
  auto& me = protocol::current_thread();
  reject_if_not_recoverable(storage_, what);
  const auto outcome = protocol::acquire(&storage_.word, me, protocol::wait_policy::wait, nullptr);
  return finish_acquire(storage_, me, outcome, what) == try_status::owner_died
             ? lock_status::owner_died
             : lock_status::acquired;
}

try_lock_result robust_mutex::try_lock() {
  constexpr const char* what = "rfutex::robust_mutex::try_lock";
  auto& me = protocol::current_thread();
  reject_if_not_recoverable(storage_, what);
  const auto outcome =
      protocol::acquire(&storage_.word, me, protocol::wait_policy::no_wait, nullptr);
  return try_lock_result(finish_acquire(storage_, me, outcome, what));
}

try_lock_result robust_mutex::try_lock_until_ns(std::int64_t ns, clock_kind clock) {
  constexpr const char* what = "rfutex::robust_mutex::try_lock_until";
  auto& me = protocol::current_thread();
  reject_if_not_recoverable(storage_, what);
  const protocol::deadline until = to_deadline(ns, clock == clock_kind::realtime);
  const auto outcome = protocol::acquire(&storage_.word, me, protocol::wait_policy::wait, &until);
  return try_lock_result(finish_acquire(storage_, me, outcome, what));
}

try_lock_result robust_mutex::lock_for_ever_as_try() {
  return try_lock_result(lock() == lock_status::owner_died ? try_status::owner_died
                                                           : try_status::acquired);
}

void robust_mutex::unlock() {
  auto& me = protocol::current_thread();
  if (protocol::owner_of(&storage_.word) != me.tid)
    fail(EPERM, "rfutex::robust_mutex::unlock: the calling thread does not hold the mutex");
  int wake = 1;
  // relaxed: we hold it; the release of the word publishes the change.
  if (state_of(storage_).load(std::memory_order_relaxed) == state_inconsistent) {
    state_of(storage_).store(state_not_recoverable, std::memory_order_relaxed);
    wake = INT_MAX;
  }
  protocol::release(&storage_.word, me, wake);
}

void robust_mutex::make_consistent() {
  auto& me = protocol::current_thread();
  if (protocol::owner_of(&storage_.word) != me.tid)
    fail(EPERM, "rfutex::robust_mutex::make_consistent: the calling thread does not hold the mutex");
  auto state = state_of(storage_);
  // relaxed: we hold it.
  if (state.load(std::memory_order_relaxed) != state_inconsistent)
    fail(EINVAL, "rfutex::robust_mutex::make_consistent: the mutex is not inconsistent");
  state.store(state_consistent, std::memory_order_relaxed);
}

bool robust_mutex::consistent() const noexcept {
  auto& s = const_cast<detail::lock_storage&>(storage_);
  return state_of(s).load(std::memory_order_relaxed) == state_consistent;
}

pid_t robust_mutex::owner() const noexcept {
  return static_cast<pid_t>(protocol::owner_of(&storage_.word));
}

}  // namespace rfutex
