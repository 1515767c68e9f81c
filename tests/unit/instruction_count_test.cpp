// SPDX-License-Identifier: MIT
// What an uncontended lock+unlock pair costs, in instructions, counted by
// running it one instruction at a time (ptrace): exact on any machine — a
// VM under TCG, whose timings mean nothing, included — and covering the
// vDSO try-unlock where the kernel strategy calls it. Each count is printed
// ("instructions per pair: ...", quoted in docs/bench.md) and bounded, so a
// fast path that grows fails here, not only in a benchmark.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "ptrace_stepper.hpp"
#include "rfutex/robust_mutex.hpp"
#include "rfutex/robust_pi_mutex.hpp"
#include "rfutex/robust_shared_mutex.hpp"
#include "rfutex/strategy.hpp"
#include "sanitizer_build.hpp"
#include "strategy_fixture.hpp"

namespace {

using rfutex::test::stepped_child;

class InstructionCount : public rfutex::test::strategy_test {};

// Instructions a stepped child takes for `pairs` pairs, after one pair in
// its setup (which sets up the thread's rfutex state and robust list).
template <class Lock, class Pair>
long instructions_of(const Pair& pair, int pairs) {
  Lock lock;  // the child's own copy: nobody else touches it
  stepped_child c([&] { pair(lock); },
                  [&] {
                    for (int i = 0; i < pairs; ++i) pair(lock);
                  });
  long n = 0;
  while (c.step()) ++n;
  return n;
}

// One pair: two pairs less one, so what the stepping harness runs around
// them cancels (the loop's own increment and compare stay in). Printed, and
// checked against `bound` in the builds that ship (not under a sanitizer,
// whose instrumentation multiplies every count).
template <class Lock, class Pair>
void expect_pair_within(const char* variant, const Pair& pair, long bound) {
  const long one = instructions_of<Lock>(pair, 1);
  const long two = instructions_of<Lock>(pair, 2);
  const long per_pair = two - one;
  const std::string strategy(rfutex::to_string(rfutex::active_unlock_strategy()));
  std::printf("instructions per pair: %s %s %ld\n", strategy.c_str(), variant, per_pair);
  ::testing::Test::RecordProperty("instructions", static_cast<int>(per_pair));
  EXPECT_GT(per_pair, 4) << "the pair was not stepped";
#if !defined(RFUTEX_TEST_ASAN) && !defined(RFUTEX_TEST_TSAN)
  EXPECT_LE(per_pair, bound) << variant << ": the uncontended pair grew";
#else
  (void)bound;
#endif
}

// The bounds: the largest count measured on the architecture over the
// three strategies (docs/bench.md), and about a third more. i386's glibc
// links its robust list one way only, which the inline fast path does not
// handle, so every pair there takes the full protocol (about 350
// instructions against 72 on x86_64).
#if defined(__i386__)
constexpr long mutex_bound = 480, shared_mutex_bound = 580;
#else
constexpr long mutex_bound = 150, shared_mutex_bound = 220;
#endif

TEST_F(InstructionCount, AnUncontendedMutexPairStaysShort) {
  expect_pair_within<rfutex::robust_mutex>("robust_mutex", [](auto& m) {
    (void)m.lock();
    m.unlock();
  }, mutex_bound);
}

TEST_F(InstructionCount, AnUncontendedPiMutexPairStaysShort) {
  expect_pair_within<rfutex::robust_pi_mutex>("robust_pi_mutex", [](auto& m) {
    (void)m.lock();
    m.unlock();
  }, mutex_bound);
}

TEST_F(InstructionCount, AnUncontendedReadPairStaysShort) {
  expect_pair_within<rfutex::robust_shared_mutex>("robust_shared_mutex_read", [](auto& m) {
    (void)m.lock_shared();
    m.unlock_shared();
  }, shared_mutex_bound);
}

TEST_F(InstructionCount, AnUncontendedWritePairStaysShort) {
  expect_pair_within<rfutex::robust_shared_mutex>("robust_shared_mutex_write", [](auto& m) {
    (void)m.lock();
    m.unlock();
  }, shared_mutex_bound);
}

}  // namespace
