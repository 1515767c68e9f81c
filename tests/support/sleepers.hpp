// SPDX-License-Identifier: MIT
// Threads or processes asleep on a lock, and the check that a death left none
// of them stranded: each must in turn acquire, record and unlock. A sleeper
// stuck for good is recognised from the lock word and /proc, not by waiting
// a while.
#pragma once

#include <sys/types.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "linux/futex.hpp"
#include "linux/robust_list.hpp"
#include "rfutex/lock_status.hpp"

namespace rfutex::test {

// What one sleeper did; lives in memory shared with it.
struct sleeper_record {
  std::uint32_t pid = 0, tid = 0;  // published before it locks
  std::uint32_t outcome = 0;       // 0 not yet; 1 acquired; 2 owner_died; 3 threw
  std::uint32_t turn = 0;          // 1 for the first to acquire, 2 for the next...
  std::uint32_t done = 0;          // 1 once it has unlocked again
};

// The counter of acquisitions that hands out turns; shared too.
struct turn_counter {
  std::uint32_t taken = 0;
};

// The body of a sleeper: lock (repairing after an owner death), record its
// turn, unlock. Returns 0, or 1 when the lock threw.
template <class M>
int acquire_record_release(M& m, sleeper_record& r, turn_counter& turns) {
  // release: the monitor reads pid/tid only after it sees them non-zero.
  std::atomic_ref<std::uint32_t>(r.pid).store(static_cast<std::uint32_t>(::getpid()),
                                              std::memory_order_relaxed);
  std::atomic_ref<std::uint32_t>(r.tid).store(static_cast<std::uint32_t>(sys::gettid()),
                                              std::memory_order_release);
  try {
    const lock_status s = m.lock();
    if (s == lock_status::owner_died) m.make_consistent();
    // relaxed: the lock orders the counter; the monitor only counts.
    const std::uint32_t turn =
        std::atomic_ref<std::uint32_t>(turns.taken).fetch_add(1, std::memory_order_relaxed) + 1;
    std::atomic_ref<std::uint32_t>(r.turn).store(turn, std::memory_order_relaxed);
    // release: outcome and turn are visible once `outcome` is.
    std::atomic_ref<std::uint32_t>(r.outcome).store(s == lock_status::owner_died ? 2 : 1,
                                                    std::memory_order_release);
    m.unlock();
  } catch (...) {
    std::atomic_ref<std::uint32_t>(r.outcome).store(3, std::memory_order_release);
    std::atomic_ref<std::uint32_t>(r.done).store(1, std::memory_order_release);
    return 1;
  }
  // release: the monitor reads everything above once it sees `done`.
  std::atomic_ref<std::uint32_t>(r.done).store(1, std::memory_order_release);
  return 0;
}

// Blocks until sleeper `r` (started elsewhere) sleeps in futex() on `word`;
// throws std::runtime_error past `bound`.
void await_asleep(const sleeper_record& r, const void* word, std::chrono::milliseconds bound);

// Waits until every sleeper has acquired and unlocked again; call it once no
// other thread holds or will take the lock. Returns "" then. Otherwise says
// why not:
// - "stranded": every sleeper not done sleeps in futex() on `word`, and the
//   word is free or held by a thread that is not one of them — no one is left
//   who could wake them — and that state stayed unchanged for a second (a
//   wake-up already issued may not show in /proc at once);
// - "hang bound": not all done within `bound` (should the rule above miss a
//   case).
std::string await_every_sleeper(const std::uint32_t* word, const std::vector<sleeper_record*>& sleepers,
                                std::chrono::milliseconds bound);

// True when the sleepers took turns 1..n, each exactly once.
bool took_distinct_turns(const std::vector<sleeper_record*>& sleepers);

// alarm() for the scope: a hang the other bounds miss ends the test binary
// (SIGALRM) within `seconds` instead of running into CTest's timeout.
class hang_bound {
 public:
  explicit hang_bound(unsigned seconds) noexcept { ::alarm(seconds); }
  hang_bound(const hang_bound&) = delete;
  hang_bound& operator=(const hang_bound&) = delete;
  ~hang_bound() { ::alarm(0); }
};

}  // namespace rfutex::test
