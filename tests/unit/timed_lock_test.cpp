// Timed locking: a held mutex times out, a free one is taken whatever the
// deadline; both clocks.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "linux/robust_list.hpp"
#include "process.hpp"
#include "rfutex/robust_mutex.hpp"
#include "mutex_types.hpp"
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
    auto r = attempt();
    seen = r.status();
    if (r) m.unlock();
  }).join();
  m.unlock();
  return seen;
}

TYPED_TEST(TimedLock, TryLockForTimesOutWhileHeld) {
  TypeParam m;
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(attempt_while_held(m, [&] { return m.try_lock_for(20ms); }), try_status::timed_out);
  EXPECT_GE(std::chrono::steady_clock::now() - start, 20ms) << "never returns early";
}

TYPED_TEST(TimedLock, SteadyDeadlineTimesOutWhileHeld) {
  TypeParam m;
  EXPECT_EQ(attempt_while_held(
                m, [&] { return m.try_lock_until(std::chrono::steady_clock::now() + 10ms); }),
            try_status::timed_out);
}

TYPED_TEST(TimedLock, SystemClockDeadlineTimesOutWhileHeld) {
  TypeParam m;
  EXPECT_EQ(attempt_while_held(
                m, [&] { return m.try_lock_until(std::chrono::system_clock::now() + 10ms); }),
            try_status::timed_out);
}

TYPED_TEST(TimedLock, OtherClocksArePolledThroughSteadyClock) {
  TypeParam m;
  EXPECT_EQ(attempt_while_held(m,
                               [&] {
                                 return m.try_lock_until(
                                     std::chrono::high_resolution_clock::now() + 10ms);
                               }),
            try_status::timed_out);
}

TYPED_TEST(TimedLock, AFreeMutexIsTakenEvenPastTheDeadline) {
  TypeParam m;
  auto r = m.try_lock_until(std::chrono::steady_clock::now() - 1h);
  EXPECT_EQ(r.status(), try_status::acquired);
  m.unlock();
  auto r2 = m.try_lock_for(-5s);
  EXPECT_EQ(r2.status(), try_status::acquired);
  m.unlock();
  auto r3 = m.try_lock_until(std::chrono::system_clock::time_point{});  // 1970
  EXPECT_EQ(r3.status(), try_status::acquired);
  m.unlock();
}

TYPED_TEST(TimedLock, HugeTimeoutsMeanForEver) {
  TypeParam m;
  auto r = m.try_lock_for(std::chrono::hours::max());
  EXPECT_EQ(r.status(), try_status::acquired);
  m.unlock();
}

// A waiter with a deadline is woken by an unlock before the deadline and takes
// the mutex: the timed wait is a real futex wait, not a poll.
TYPED_TEST(TimedLock, AnUnlockBeforeTheDeadlineHandsTheMutexOver) {
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
}

}  // namespace
