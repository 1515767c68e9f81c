// SPDX-License-Identifier: MIT
// Timed locking: a held mutex times out, a free one is taken whatever the
// deadline; steady, system and user-defined clocks. Tests that could hang on
// a regression bound themselves with alarm().
#include <gtest/gtest.h>

#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <ratio>
#include <system_error>
#include <thread>

#include "linux/robust_list.hpp"
#include "mutex_types.hpp"
#include "process.hpp"
#include "rfutex/robust_mutex.hpp"
#include "strategy_fixture.hpp"

namespace {

using namespace std::chrono_literals;
using rfutex::lock_status;
using rfutex::try_status;

RFUTEX_MUTEX_TYPED_SUITE(TimedLock);

// Runs `attempt` on another thread while this one holds `m`.
template <class M, class F>
try_status attempt_while_held(M& m, F attempt) {
  EXPECT_EQ(m.lock(), lock_status::acquired);
  try_status seen = try_status::acquired;
  std::thread([&] {
    try {
      auto r = attempt();
      seen = r.status();
      if (r) m.unlock();
    } catch (const std::system_error& e) {
      ADD_FAILURE() << "threw " << e.what();
    }
  }).join();
  m.unlock();
  return seen;
}

TYPED_TEST(TimedLock, TryLockForTimesOutWhileHeld) {
  alarm(20);
  TypeParam m;
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(attempt_while_held(m, [&] { return m.try_lock_for(20ms); }), try_status::timed_out);
  EXPECT_GE(std::chrono::steady_clock::now() - start, 20ms) << "never returns early";
  alarm(0);
}

TYPED_TEST(TimedLock, SteadyDeadlineTimesOutWhileHeld) {
  alarm(20);
  TypeParam m;
  EXPECT_EQ(attempt_while_held(
                m, [&] { return m.try_lock_until(std::chrono::steady_clock::now() + 10ms); }),
            try_status::timed_out);
  alarm(0);
}

TYPED_TEST(TimedLock, SystemClockDeadlineTimesOutWhileHeld) {
  alarm(20);
  TypeParam m;
  EXPECT_EQ(attempt_while_held(
                m, [&] { return m.try_lock_until(std::chrono::system_clock::now() + 10ms); }),
            try_status::timed_out);
  alarm(0);
}

// A clock that is neither steady_clock nor system_clock (so try_lock_until
// takes its polling branch), with an epoch 1000 hours after steady_clock's:
// a deadline handed to the kernel as if it were a steady or system one
// would be wrong by decades.
struct offset_clock {
  using rep = std::int64_t;
  using period = std::nano;
  using duration = std::chrono::nanoseconds;
  using time_point = std::chrono::time_point<offset_clock>;
  [[maybe_unused]] static constexpr bool is_steady = true;
  static time_point now() noexcept {
    return time_point(std::chrono::steady_clock::now().time_since_epoch() + 1000h);
  }
};

// Runs `attempt` on another thread, whose TID it publishes in `tid` first.
// Returns once that thread either finished or sleeps in futex() on `word`:
// no timing, and no hang if `attempt` returns without ever sleeping.
struct attempt_thread {
  template <class F>
  explicit attempt_thread(F attempt)
      : thread([this, attempt] {
          tid = rfutex::sys::gettid();
          started.set();
          seen = attempt();
          finished.set();
        }) {}
  ~attempt_thread() { thread.join(); }
  // True: asleep on `word`; false: `attempt` already returned.
  bool sleeps_on(const void* word) {
    started.wait();
    while (!finished.is_set()) {
      if (rfutex::test::blocked_in_futex_on(getpid(), tid, word)) return true;
      std::this_thread::yield();
    }
    return false;
  }
  pid_t tid = 0;
  rfutex::test::event started, finished;
  try_status seen = try_status::busy;
  std::thread thread;
};

TYPED_TEST(TimedLock, AUserDefinedClockIsPolledAndNeverReturnsEarly) {
  alarm(20);
  TypeParam m;
  // The deadline is taken on the attempting thread, just before the call:
  // one already passed when the call begins would be a try_lock (busy).
  offset_clock::time_point start{};
  EXPECT_EQ(attempt_while_held(m,
                               [&] {
                                 start = offset_clock::now();
                                 return m.try_lock_until(start + 20ms);
                               }),
            try_status::timed_out);
  EXPECT_GE(offset_clock::now() - start, 20ms) << "never returns early";
  alarm(0);
}

TYPED_TEST(TimedLock, AUserDefinedClockDeadlineWaitsForAnUnlock) {
  alarm(20);
  TypeParam m;
  ASSERT_EQ(m.lock(), lock_status::acquired);
  {
    attempt_thread waiter([&] {
      auto r = m.try_lock_until(offset_clock::now() + 1h);
      if (r) m.unlock();
      return r.status();
    });
    EXPECT_TRUE(waiter.sleeps_on(&m)) << "the waiter gave up at once";
    m.unlock();
    waiter.finished.wait();
    EXPECT_EQ(waiter.seen, try_status::acquired);
  }
  alarm(0);
}

// A free mutex is taken without looking at the deadline, on every clock.
// (The user-defined clock is the case that can go wrong: its polling loop
// decides on the deadline before it tries.)
TYPED_TEST(TimedLock, AFreeMutexIsTakenEvenPastTheDeadline) {
  alarm(20);
  TypeParam m;
  auto r = m.try_lock_until(offset_clock::now() - 1h);
  EXPECT_EQ(r.status(), try_status::acquired);
  if (r) m.unlock();
  auto r1 = m.try_lock_until(std::chrono::steady_clock::now() - 1h);
  EXPECT_EQ(r1.status(), try_status::acquired);
  if (r1) m.unlock();
  auto r2 = m.try_lock_for(-5s);
  EXPECT_EQ(r2.status(), try_status::acquired);
  if (r2) m.unlock();
  auto r3 = m.try_lock_until(std::chrono::system_clock::time_point{});  // 1970
  EXPECT_EQ(r3.status(), try_status::acquired);
  if (r3) m.unlock();
  alarm(0);
}

// A held mutex and a deadline before the clock's epoch (a negative time
// since epoch, which the kernel rejects as a timespec): timed out, at once.
TYPED_TEST(TimedLock, AHeldMutexTimesOutAtADeadlineBeforeTheEpoch) {
  alarm(20);
  TypeParam m;
  EXPECT_EQ(attempt_while_held(
                m, [&] { return m.try_lock_until(std::chrono::steady_clock::time_point{} - 1h); }),
            try_status::timed_out);
  EXPECT_EQ(attempt_while_held(
                m, [&] { return m.try_lock_until(std::chrono::system_clock::time_point{} - 1s); }),
            try_status::timed_out);
  EXPECT_EQ(attempt_while_held(m, [&] { return m.try_lock_for(-5s); }), try_status::timed_out);
  alarm(0);
}

// try_lock_for(hours::max()) is a wait for ever: on a held mutex it sleeps
// (confirmed through /proc) and takes the mutex once it is released.
TYPED_TEST(TimedLock, HugeTimeoutsMeanForEver) {
  alarm(20);
  TypeParam m;
  ASSERT_EQ(m.lock(), lock_status::acquired);
  {
    attempt_thread waiter([&] {
      auto r = m.try_lock_for(std::chrono::hours::max());
      if (r) m.unlock();
      return r.status();
    });
    EXPECT_TRUE(waiter.sleeps_on(&m)) << "the waiter gave up at once";
    m.unlock();
    waiter.finished.wait();
    EXPECT_EQ(waiter.seen, try_status::acquired);
  }
  alarm(0);
}

// A waiter with a deadline is woken by an unlock before the deadline and takes
// the mutex: the timed wait is a real futex wait, not a poll.
TYPED_TEST(TimedLock, AnUnlockBeforeTheDeadlineHandsTheMutexOver) {
  alarm(20);
  TypeParam m;
  ASSERT_EQ(m.lock(), lock_status::acquired);
  pid_t waiter_tid = 0;
  rfutex::test::event started;
  try_status seen = try_status::busy;
  std::thread waiter([&] {
    waiter_tid = rfutex::sys::gettid();
    started.set();
    auto r = m.try_lock_for(1h);
    seen = r.status();
    if (r) m.unlock();
  });
  started.wait();
  rfutex::test::wait_until_blocked_on(getpid(), waiter_tid, &m);
  m.unlock();
  waiter.join();
  EXPECT_EQ(seen, try_status::acquired);
  alarm(0);
}

}  // namespace
