// SPDX-License-Identifier: MIT
// rfutex::robust_shared_mutex — a process-shared reader-writer lock that
// survives the death of any reader or writer.
//
// Every hold is a robust futex word the holding thread owns and links into
// its robust list — the writer's and each reader's — so the kernel releases
// whatever a dying thread held:
//   - a writer dies holding it: the next writer *and* every reader learn of
//     it (lock() / lock_shared() return owner_died) until a writer repairs
//     the data and calls make_consistent(); a writer that unlocks without it
//     makes the lock not recoverable (ENOTRECOVERABLE for everyone after).
//   - a reader dies holding it: its hold simply disappears (readers do not
//     modify the data, so nothing needs repair); a waiting writer proceeds.
//   - nobody is left asleep on a free lock after any death (the protocol of
//     the mutexes, see src/protocol/lock_protocol.hpp, and docs/rwlock.md).
//
// Bounded: at most `max_readers` (15) threads hold it shared at once; more
// readers wait for a slot (they never fail). Writer-preferring: once a
// writer holds the writer word, no new reader enters, so readers cannot
// starve a writer; a steady stream of writers can delay readers.
// Recursive shared locking by one thread may deadlock while a writer waits
// (as with POSIX rwlocks); lock() while holding it shared is EDEADLK.
//
// Layout (640 bytes, identical in 32- and 64-bit processes, zero bytes =
// unlocked and consistent): a robust_mutex for the writer (+0), then 15
// reader slots of 40 bytes, each the bytes of a robust_mutex (docs/layout.md).
//
// SharedTimedLockable and TimedLockable: std::shared_lock, std::unique_lock
// and std::lock_guard work (they ignore owner death; prefer robust_lock for
// the exclusive side). Errors: std::system_error (EDEADLK, EPERM,
// ENOTRECOVERABLE, EINVAL for make_consistent on a consistent lock).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <type_traits>

#include "rfutex/detail/lock_storage.hpp"
#include "rfutex/lock_status.hpp"
#include "rfutex/robust_mutex.hpp"

namespace rfutex {

class robust_shared_mutex {
 public:
  static constexpr int max_readers = 15;

  constexpr robust_shared_mutex() noexcept = default;
  robust_shared_mutex(const robust_shared_mutex&) = delete;
  robust_shared_mutex& operator=(const robust_shared_mutex&) = delete;
  // Runs the unmap guard over its bytes, as the mutexes do.
  ~robust_shared_mutex();

  // Exclusive: blocks until no writer and no reader holds it. owner_died:
  // the last writer died holding it (or a reader saw that and nobody has
  // repaired yet) — repair, then make_consistent().
  [[nodiscard]] lock_status lock();
  [[nodiscard]] try_lock_result try_lock();
  template <class Rep, class Period>
  [[nodiscard]] try_lock_result try_lock_for(const std::chrono::duration<Rep, Period>& timeout) {
    return try_lock_until(std::chrono::steady_clock::now() +
                          std::chrono::ceil<std::chrono::nanoseconds>(timeout));
  }
  template <class Clock, class Duration>
  [[nodiscard]] try_lock_result try_lock_until(const std::chrono::time_point<Clock, Duration>& deadline) {
    return until(deadline, [this](std::int64_t ns, bool realtime) { return try_lock_until_ns(ns, realtime); });
  }
  // Releases the exclusive hold; after an owner_died acquisition without
  // make_consistent(), the lock becomes not recoverable.
  void unlock();
  void make_consistent();

  // Shared: blocks while a writer holds it (or while all reader slots are
  // taken). owner_died: the data's last writer died mid-update and no writer
  // has repaired it yet — the caller holds it shared, may read, cannot repair.
  [[nodiscard]] lock_status lock_shared();
  [[nodiscard]] try_lock_result try_lock_shared();
  template <class Rep, class Period>
  [[nodiscard]] try_lock_result try_lock_shared_for(const std::chrono::duration<Rep, Period>& timeout) {
    return try_lock_shared_until(std::chrono::steady_clock::now() +
                                 std::chrono::ceil<std::chrono::nanoseconds>(timeout));
  }
  template <class Clock, class Duration>
  [[nodiscard]] try_lock_result try_lock_shared_until(
      const std::chrono::time_point<Clock, Duration>& deadline) {
    return until(deadline,
                 [this](std::int64_t ns, bool realtime) { return try_lock_shared_until_ns(ns, realtime); });
  }
  // Releases this thread's shared hold. EPERM when it holds none.
  void unlock_shared();

  // False while the data needs repair (a writer died mid-update), and for
  // ever once not recoverable.
  [[nodiscard]] bool consistent() const noexcept;
  // TID of the writer holding it, 0 when none. A snapshot.
  [[nodiscard]] pid_t writer() const noexcept;
  // How many threads hold it shared. A snapshot.
  [[nodiscard]] int readers() const noexcept;

 private:
  // Deadlines: steady_clock = CLOCK_MONOTONIC, system_clock = CLOCK_REALTIME,
  // other clocks through steady_clock.
  template <class Clock, class Duration, class F>
  static try_lock_result until(const std::chrono::time_point<Clock, Duration>& deadline, F f) {
    using namespace std::chrono;
    if constexpr (std::is_same_v<Clock, steady_clock> || std::is_same_v<Clock, system_clock>) {
      return f(static_cast<std::int64_t>(time_point_cast<nanoseconds>(deadline).time_since_epoch().count()),
               std::is_same_v<Clock, system_clock>);
    } else {
      const auto left = ceil<nanoseconds>(deadline - Clock::now());
      return f(static_cast<std::int64_t>(
                   time_point_cast<nanoseconds>(steady_clock::now() + left).time_since_epoch().count()),
               false);
    }
  }
  try_lock_result try_lock_until_ns(std::int64_t ns, bool realtime);
  try_lock_result try_lock_shared_until_ns(std::int64_t ns, bool realtime);

  robust_mutex writer_;
  detail::lock_storage readers_[max_readers];

  friend struct shared_mutex_access;  // the implementation in src/
};

static_assert(sizeof(robust_shared_mutex) == 640 && alignof(robust_shared_mutex) == 8);
static_assert(std::is_standard_layout_v<robust_shared_mutex>);

}  // namespace rfutex
