// SPDX-License-Identifier: MIT
// rfutex::shared_once: whichever process comes first initialises the
// shared data, exactly once; an initialiser killed at any instruction is
// detected and the next caller initialises again, from scratch.
#include <gtest/gtest.h>
#include <signal.h>

#include <array>
#include <cstdint>
#include <stdexcept>
#include <vector>

#include "sanitizer_build.hpp"
#include "process.hpp"
#include "ptrace_stepper.hpp"
#include "rfutex/robust_mutex.hpp"
#include "rfutex/shared_once.hpp"
#include "strategy_fixture.hpp"

namespace {

using outcome = rfutex::shared_once::outcome;
using rfutex::test::child_process;
using rfutex::test::shared;
using rfutex::test::stepped_child;

constexpr std::uint32_t pattern = 0x5eed0000u;

class SharedOnce : public rfutex::test::strategy_test {};

struct arena {
  rfutex::shared_once once;
  std::array<std::uint32_t, 8> table{};
  int runs = 0;  // how many init()s started
  rfutex::robust_mutex warm_up;
};

// Builds the table from scratch, whatever an earlier attempt left.
void build(arena& a) {
  ++a.runs;
  for (std::size_t i = 0; i < a.table.size(); ++i) a.table[i] = pattern + static_cast<std::uint32_t>(i);
}

bool complete(const arena& a) {
  for (std::size_t i = 0; i < a.table.size(); ++i)
    if (a.table[i] != pattern + i) return false;
  return true;
}

TEST_F(SharedOnce, TheFirstCallerInitialisesAndEveryLaterOneFindsItDone) {
  shared<arena> a;
  EXPECT_FALSE(a->once.done());
  EXPECT_EQ(a->once.call([&] { build(*a); }), outcome::ran);
  EXPECT_TRUE(a->once.done());
  auto other = child_process::fork([&] {
    return a->once.call([&] { build(*a); }) == outcome::already_done ? 0 : 1;
  });
  EXPECT_TRUE(rfutex::test::exited_with(other.wait(), 0));
  EXPECT_EQ(a->runs, 1);
  EXPECT_TRUE(complete(*a));
}

TEST_F(SharedOnce, AnInitThatThrowsLeavesItUndoneForTheNextCaller) {
  shared<arena> a;
  EXPECT_THROW(a->once.call([] { throw std::runtime_error("no"); }), std::runtime_error);
  EXPECT_FALSE(a->once.done());
  EXPECT_EQ(a->once.call([&] { build(*a); }), outcome::ran);
  EXPECT_TRUE(complete(*a));
}

// After a crashed initialiser, a failing init must not poison the once:
// the mutex inside was made consistent, so a third caller still succeeds.
TEST_F(SharedOnce, ACrashThenAFailingInitStillLetsTheNextCallerInitialise) {
  shared<arena> a;
  auto crasher = child_process::fork([&] {
    (void)a->once.call([&] {
      a->table[0] = pattern;
      ::raise(SIGKILL);  // dies half-way, holding the once's mutex
    });
    return 1;
  });
  ASSERT_TRUE(rfutex::test::killed_by(crasher.wait(), SIGKILL));
  EXPECT_THROW(a->once.call([] { throw std::runtime_error("no"); }), std::runtime_error);
  EXPECT_EQ(a->once.call([&] { build(*a); }), outcome::ran);
  EXPECT_TRUE(complete(*a));
}

// SIGKILL after each single instruction of a real call(); afterwards one
// call() must leave the table complete, running init again unless the dead
// caller had finished it — and say truthfully which happened.
TEST_F(SharedOnce, AnInitialiserKilledAtAnyInstructionIsDetectedAndRedone) {
#if defined(RFUTEX_TEST_TSAN)
  GTEST_SKIP() << "ThreadSanitizer's runtime makes single-stepping every instruction too slow to finish";
#endif
  long total = 0;
  {
    shared<arena> a;
    stepped_child c([&] { (void)a->warm_up.lock(); a->warm_up.unlock(); },
                    [&] { (void)a->once.call([&] { build(*a); }); });
    while (c.step()) ++total;
  }
  ASSERT_GT(total, 20) << "call() was not stepped";
  int ran = 0, ran_after_crash = 0, already_done = 0;
  for (long k : rfutex::test::kill_instants(total)) {
    shared<arena> a;
    stepped_child c([&] { (void)a->warm_up.lock(); a->warm_up.unlock(); },
                    [&] { (void)a->once.call([&] { build(*a); }); });
    for (long i = 0; i < k && c.step(); ++i) {
    }
    c.kill();
    const int runs_before = a->runs;
    const outcome o = a->once.call([&] { build(*a); });
    ASSERT_TRUE(complete(*a)) << "killed after " << k << " instructions: table incomplete";
    ASSERT_TRUE(a->once.done());
    switch (o) {
      case outcome::ran:
        ++ran;
        EXPECT_EQ(runs_before, 0) << "k=" << k << ": 'ran' although an initialiser had started";
        break;
      case outcome::ran_after_crash:
        ++ran_after_crash;
        EXPECT_EQ(a->runs, runs_before + 1);
        break;
      case outcome::already_done:
        ++already_done;
        EXPECT_EQ(a->runs, runs_before) << "k=" << k;
        break;
    }
  }
  EXPECT_GT(ran, 0) << "some kills came before the initialiser took the lock";
  EXPECT_GT(ran_after_crash, 0) << "some kills came in the middle of init";
  EXPECT_GT(already_done, 0) << "some kills came after init was marked done";
}

}  // namespace
