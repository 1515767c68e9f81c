// SPDX-License-Identifier: MIT
// The storm's stranded-sleeper watch: a thread asleep in futex() on a lock
// word without FUTEX_WAITERS, with nobody on the way to wake it, is a lost
// wake-up; with FUTEX_WAITERS set, or with a releaser still inside unlock,
// it is not. Sample times are given to the watch, so nothing here depends
// on how fast the machine is; the sleeper is confirmed asleep through /proc.
#include <gtest/gtest.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <thread>

#include "process.hpp"
#include "torture/liveness.hpp"

namespace rfutex::tool::torture {
namespace {

constexpr std::uint32_t waiters_bit = 0x80000000u;

// A thread that announces "acquiring lock 0" and sleeps on `word` while it
// holds `expected`, until told to stop.
class sleeper {
 public:
  sleeper(std::uint32_t& word, std::uint32_t expected, thread_slot& slot)
      : word_(word), expected_(expected), slot_(slot), thread_([this] { run(); }) {
    while (slot_.tid.load() == 0) std::this_thread::yield();
    test::wait_until_blocked_on(::getpid(), slot_.tid.load(), &word_);
  }
  ~sleeper() {
    stop_.store(true);
    std::atomic_ref<std::uint32_t>(word_).store(expected_ + 1);
    ::syscall(SYS_futex, &word_, FUTEX_WAKE, 1, nullptr, nullptr, 0);
    thread_.join();
  }

 private:
  void run() {
    slot_.lock.store(0);
    slot_.phase.store(static_cast<std::uint32_t>(phase::acquiring));
    slot_.tid.store(static_cast<std::int32_t>(::syscall(SYS_gettid)));
    while (!stop_.load()) ::syscall(SYS_futex, &word_, FUTEX_WAIT, expected_, nullptr, nullptr, 0);
  }
  std::uint32_t& word_;
  std::uint32_t expected_;
  thread_slot& slot_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

struct watch_fixture : ::testing::Test {
  alignas(8) std::uint32_t word = 0;
  thread_slot sleeping_slot, other_slot;
  std::vector<watched_thread> threads{{&sleeping_slot, ::getpid(), "w0.t0"},
                                      {&other_slot, ::getpid(), "w0.t1"}};
  std::vector<lock_info> locks() { return {lock_info{"mutex0", &word, false, nullptr}}; }

  // Samples every 100 ms of watch time up to `until_ms`; the first report.
  std::string watch_until(double until_ms) {
    sleeper_watch w(locks(), 500);
    for (double t = 0; t <= until_ms; t += 100)
      if (auto s = w.sample(t, threads); !s.empty()) return s;
    return {};
  }
};

TEST_F(watch_fixture, ReportsASleeperOnAWordWithoutWaitersAndNobodyOnTheWay) {
  word = 0;  // free, and nobody announced a sleeper
  sleeper s(word, 0, sleeping_slot);
  const std::string report = watch_until(2000);
  EXPECT_NE(report.find("lost wake-up: w0.t0"), std::string::npos) << report;
  EXPECT_NE(report.find("mutex0"), std::string::npos) << report;
}

TEST_F(watch_fixture, ReportsItAlsoWhenTheWordHasAnOwner) {
  word = 12345;  // another thread took it through the fast path
  sleeper s(word, 12345, sleeping_slot);
  EXPECT_NE(watch_until(2000).find("lost wake-up"), std::string::npos);
}

TEST_F(watch_fixture, AcceptsASleeperOnAWordWithWaiters) {
  word = waiters_bit | 12345;  // its owner's release will wake it
  sleeper s(word, word, sleeping_slot);
  EXPECT_EQ(watch_until(3000), "");
}

TEST_F(watch_fixture, AcceptsASleeperWhileAReleaserIsStillInsideUnlock) {
  word = 0;
  other_slot.lock.store(0);
  other_slot.phase.store(static_cast<std::uint32_t>(phase::releasing));
  other_slot.tid.store(static_cast<std::int32_t>(::syscall(SYS_gettid)));
  sleeper s(word, 0, sleeping_slot);
  EXPECT_EQ(watch_until(3000), "");
}

TEST_F(watch_fixture, NeedsTheConfirmationTime) {
  word = 0;
  sleeper s(word, 0, sleeping_slot);
  EXPECT_EQ(watch_until(400), "");  // confirmation takes 500 ms of watch time
}

}  // namespace
}  // namespace rfutex::tool::torture
