// SPDX-License-Identifier: MIT
// The expected verdicts, one test each: what `rfutex model` must find for
// each protocol, architecture and kernel behaviour (safety: the unmap world;
// no lost wake-up: the wake-up world, docs/model.md).
#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <tuple>

#include "model/model.hpp"
#include "param_name.hpp"

namespace rfutex::model {
namespace {

options with(protocol p, arch a) { return defaults_for(p, a); }

const verdict& of(const result& r, property p) { return r.properties[static_cast<std::size_t>(p)]; }

bool mentions(const trace_step& s, std::string_view what) {
  if (s.action.find(what) != std::string::npos) return true;
  for (const auto& e : s.effects)
    if (e.find(what) != std::string::npos) return true;
  return false;
}

// Index of the first step mentioning `what`, or -1.
int step_of(const std::vector<trace_step>& t, std::string_view what) {
  for (std::size_t i = 0; i < t.size(); ++i)
    if (mentions(t[i], what)) return static_cast<int>(i);
  return -1;
}

// A foreign-write counterexample must show, in this order: the release, the
// remap, and the death whose exit processing writes into the file page.
void expect_release_remap_kill(const verdict& v) {
  ASSERT_FALSE(v.holds);
  const auto& t = v.counterexample;
  ASSERT_FALSE(t.empty());
  const int release = step_of(t, "RELEASED");
  const int remap = step_of(t, "over the lock page");
  const int kill = static_cast<int>(t.size()) - 1;
  EXPECT_GE(release, 0);
  EXPECT_GT(remap, release);
  EXPECT_GT(kill, remap);
  EXPECT_TRUE(mentions(t.back(), "SIGKILL") || mentions(t.back(), "faults"));
  EXPECT_TRUE(mentions(t.back(), "FOREIGN WRITE"));
  EXPECT_NE(t.back().after.find("DEAD"), std::string::npos);
}

// glibc's sequence clears list_op_pending only after the release: on every
// arch (nothing in any kernel knows its instructions) a kill after the
// release and a remap writes OWNER_DIED into the file.
TEST(ModelVerdicts, GlibcSequenceHasForeignWriteOnEveryArch) {
  for (arch a : {arch::x86_64, arch::i386, arch::arm64}) {
    SCOPED_TRACE(std::string(to_string(a)));
    const result r = check(with(protocol::glibc, a));
    expect_release_remap_kill(of(r, property::no_foreign_write));
    EXPECT_FALSE(of(r, property::pending_cleared).holds);
    EXPECT_TRUE(of(r, property::no_lost_lock).holds);
  }
}

// 7.2 on x86_64 and on i386/compat (4-byte slot, the pop_size32 range):
// the fix-up clears the slot whenever a signal meets the critical section.
TEST(ModelVerdicts, X86VdsoWithFixupHoldsEverything) {
  for (arch a : {arch::x86_64, arch::i386}) {
    SCOPED_TRACE(std::string(to_string(a)));
    const result r = check(with(protocol::vdso, a));
    EXPECT_TRUE(r.all_hold());
    EXPECT_GT(r.states, 50u);  // a real exploration, not a trivial one
  }
}

// The same vDSO sequence on a kernel without the fix-up: killed between
// the cmpxchg and the clearing store, the stale pointer is followed.
TEST(ModelVerdicts, X86VdsoWithoutFixupHasForeignWrite) {
  for (arch a : {arch::x86_64, arch::i386}) {
    SCOPED_TRACE(std::string(to_string(a)));
    options o = with(protocol::vdso, a);
    o.fixup = false;
    const result r = check(o);
    expect_release_remap_kill(of(r, property::no_foreign_write));
    EXPECT_TRUE(mentions(of(r, property::no_foreign_write).counterexample.back(), "--no-fixup"));
  }
}

// arm64 as of 7.2: its entry code never notes user_irq, so
// futex_fixup_robust_unlock() returns at once: the seed's aarch64 report.
TEST(ModelVerdicts, Arm64WithoutUserIrqHasForeignWrite) {
  const options o = with(protocol::vdso, arch::arm64);
  ASSERT_FALSE(entry_notes_user_irq(o));  // the default is 7.2's behaviour
  const result r = check(o);
  const verdict& v = of(r, property::no_foreign_write);
  expect_release_remap_kill(v);
  EXPECT_TRUE(mentions(v.counterexample.back(), "user_irq not set"));
}

// With user_irq noted and the correct decision (cs_success, or cs_start
// with w3 == 0) the LL/SC sequence is as safe as x86's.
TEST(ModelVerdicts, Arm64WithUserIrqAndCorrectDeciderHoldsEverything) {
  options o = with(protocol::vdso, arch::arm64);
  o.entry_notes_user_irq = true;
  const result r = check(o);
  EXPECT_TRUE(r.all_hold());
}

// A decider that looks only for cs_success misses the interrupt that lands
// on cs_start after a successful stlxr (w3 == 0, cbnz not yet run).
TEST(ModelVerdicts, Arm64WithNaiveDeciderHasViolation) {
  options o = with(protocol::vdso, arch::arm64);
  o.entry_notes_user_irq = true;
  o.decide = decider::naive;
  const result r = check(o);
  const verdict& v = of(r, property::no_foreign_write);
  expect_release_remap_kill(v);
  EXPECT_EQ(v.counterexample.back().at, "vdso+0x10 <cs_start>");
  EXPECT_TRUE(mentions(v.counterexample.back(), "w3=0) -> NULL"));
}

// rfutex's guarded sequence: remaps through the libc run the unmap guard,
// which clears the stale pointer before the page goes.
TEST(ModelVerdicts, GuardedWithLibcRemapsHoldsEverything) {
  for (arch a : {arch::x86_64, arch::i386, arch::arm64}) {
    SCOPED_TRACE(std::string(to_string(a)));
    const result r = check(with(protocol::guarded, a));
    EXPECT_TRUE(r.all_hold());
  }
}

// ... but a raw mmap syscall bypasses the guard.
TEST(ModelVerdicts, GuardedWithRawRemapsHasForeignWrite) {
  for (arch a : {arch::x86_64, arch::i386, arch::arm64}) {
    SCOPED_TRACE(std::string(to_string(a)));
    options o = with(protocol::guarded, a);
    o.remapping = remap::raw;
    const result r = check(o);
    expect_release_remap_kill(of(r, property::no_foreign_write));
    EXPECT_EQ(step_of(of(r, property::no_foreign_write).counterexample, "unmap guard"), -1);
  }
}

// Not in the list, but the same mechanism: x86 with an entry model
// that does not note user_irq, or with the naive decider, is broken too.
TEST(ModelVerdicts, X86VdsoBreaksWithoutUserIrqOrWithNaiveDecider) {
  options no_irq = with(protocol::vdso, arch::x86_64);
  no_irq.entry_notes_user_irq = false;
  EXPECT_FALSE(of(check(no_irq), property::no_foreign_write).holds);
  options naive = with(protocol::vdso, arch::x86_64);
  naive.decide = decider::naive;
  EXPECT_FALSE(of(check(naive), property::no_foreign_write).holds);
}

// A hook that claims success after a failed cmpxchg (waiters queued, the
// lock still held, the node already unlinked) throws away the only record
// of the held lock: the no-lost-lock check must catch it.
TEST(ModelVerdicts, DeciderIgnoringFlagsLosesTheLock) {
  options o = with(protocol::vdso, arch::x86_64);
  o.decide = decider::any_in_range;
  const result r = check(o);
  const verdict& v = of(r, property::no_lost_lock);
  ASSERT_FALSE(v.holds);
  EXPECT_GE(step_of(v.counterexample, "FUTEX_WAITERS"), 0);
  EXPECT_GE(step_of(v.counterexample, "ZF=0"), 0);
  EXPECT_TRUE(mentions(v.counterexample.back(), "LOST LOCK"));
  EXPECT_TRUE(of(r, property::no_foreign_write).holds);
}

// ---- no lost wake-up (the wake-up world) -----------------------------------

options waking(protocol p, pending_wake rule, unsigned sleepers = 2) {
  options o = defaults_for(p, arch::x86_64);
  o.wake_rule = rule;
  o.sleepers = sleepers;
  return o;
}

const verdict& wakeup_of(const result& r) { return of(r, property::no_lost_wakeup); }

// The last state of a lost-wake-up trace: a living sleeper asleep, nothing
// left to run (the unlocker and the taker done or dead).
void expect_stranded_sleeper(const verdict& v) {
  ASSERT_FALSE(v.holds);
  ASSERT_FALSE(v.counterexample.empty());
  const std::string& last = v.counterexample.back().after;
  EXPECT_NE(last.find("=ASLEEP"), std::string::npos) << last;
  EXPECT_EQ(last.find("rel:"), std::string::npos) << last;
  EXPECT_EQ(last.find("acq:"), std::string::npos) << last;
}

// The earlier guarded release loses a wake-up on every kernel: the word is 0,
// list_op_pending already cleared, and the unlocker dies before FUTEX_WAKE,
// so the kernel has nothing pointing at the lock. No exit rule helps.
TEST(ModelVerdicts, GuardedV1LosesAWakeupOnEveryKernel) {
  for (pending_wake rule : {pending_wake::no_waiters, pending_wake::owner_zero}) {
    for (unsigned n : {1u, 2u}) {
      SCOPED_TRACE(std::string(to_string(rule)) + " sleepers=" + std::to_string(n));
      const result r = check(waking(protocol::guarded_v1, rule, n));
      const verdict& v = wakeup_of(r);  // r outlives v
      expect_stranded_sleeper(v);
      const auto& t = v.counterexample;
      const int release = step_of(t, "RELEASED");
      const int kill = step_of(t, "SIGKILL of unlocker");
      ASSERT_GE(release, 0);
      ASSERT_GT(kill, release);
      // 7.2's rule would wake for any word but one owned with waiters: what
      // it finds is nothing at all. (On the owner-zero rule the shortest run
      // is the fast-path variant glibc shares; the clear-then-die run is
      // replayed in liveness_test.cpp for both rules.)
      if (rule == pending_wake::no_waiters) {
        EXPECT_TRUE(mentions(t[static_cast<std::size_t>(kill)], "list_op_pending = 0"));
      }
      EXPECT_EQ(step_of(t, "FUTEX_WAKE, 1"), -1);  // the wake never ran
      EXPECT_TRUE(r.properties[0].holds);  // its safety is intact (the guard)
    }
  }
}

// glibc on a kernel with the owner-zero rule: the unlocker releases, a third
// thread takes the free word through the fast path (no FUTEX_WAITERS), the
// unlocker dies before its wake: the owner part is not 0, the kernel does
// not wake, and the taker's release sees no waiters.
TEST(ModelVerdicts, GlibcLosesAWakeupOnOwnerZeroKernels) {
  for (unsigned n : {1u, 2u}) {
    SCOPED_TRACE(n);
    const result r = check(waking(protocol::glibc, pending_wake::owner_zero, n));
    const verdict& v = wakeup_of(r);
    expect_stranded_sleeper(v);
    const auto& t = v.counterexample;
    const int taken = step_of(t, "ACQUIRED (no FUTEX_WAITERS)");
    const int no_wake = step_of(t, "NO WAKE (owner-zero rule)");
    ASSERT_GE(taken, 0);
    EXPECT_GT(no_wake, taken);
  }
}

// ... while 7.2's rule (and the 6.x stable backport) wakes for a word owned
// without FUTEX_WAITERS: glibc's order (pending cleared after the wake) then
// never strands a sleeper.
TEST(ModelVerdicts, GlibcKeepsItsSleepersOnNoWaitersKernels) {
  for (unsigned n : {1u, 2u}) {
    SCOPED_TRACE(n);
    const result r = check(waking(protocol::glibc, pending_wake::no_waiters, n));
    EXPECT_TRUE(wakeup_of(r).holds);
    EXPECT_GT(r.liveness.states, 500u);
  }
}

// The new guarded release: the kernel stores 0 and wakes every sleeper in
// one FUTEX_WAKE_OP, pending cleared after it. Holds under both exit rules.
TEST(ModelVerdicts, GuardedHoldsOnEveryKernel) {
  for (pending_wake rule : {pending_wake::no_waiters, pending_wake::owner_zero}) {
    for (unsigned n : {1u, 2u}) {
      SCOPED_TRACE(std::string(to_string(rule)) + " sleepers=" + std::to_string(n));
      const result r = check(waking(protocol::guarded, rule, n));
      EXPECT_TRUE(r.all_hold());
      EXPECT_GT(r.liveness.states, 500u);
    }
  }
}

// The kernel strategy (vdso) and hybrid wake ONE waiter in
// FUTEX_WAKE|FUTEX_ROBUST_UNLOCK. On 7.2's rule a woken waiter that dies
// after a fast-path taker took the word is passed on by the kernel; on the
// owner-zero rule it is not: with two sleepers the second is lost.
TEST(ModelVerdicts, WakeOneReleasesDependOnTheNoWaitersRule) {
  for (protocol p : {protocol::vdso, protocol::hybrid}) {
    SCOPED_TRACE(std::string(to_string(p)));
    EXPECT_TRUE(wakeup_of(check(waking(p, pending_wake::no_waiters, 2))).holds);
    EXPECT_TRUE(wakeup_of(check(waking(p, pending_wake::no_waiters, 1))).holds);
    // One sleeper: nobody else can be stranded by the woken one's death.
    EXPECT_TRUE(wakeup_of(check(waking(p, pending_wake::owner_zero, 1))).holds);
    const result r = check(waking(p, pending_wake::owner_zero, 2));
    const verdict& v = wakeup_of(r);
    expect_stranded_sleeper(v);
    const auto& t = v.counterexample;
    const int woken = step_of(t, "sleeper1 woken");
    const int taken = step_of(t, "ACQUIRED (no FUTEX_WAITERS)");
    const int kill = step_of(t, "SIGKILL of sleeper1");
    ASSERT_GE(woken, 0);
    EXPECT_GT(taken, woken);
    EXPECT_GT(kill, taken);
    EXPECT_TRUE(mentions(t[static_cast<std::size_t>(kill)], "NO WAKE (owner-zero rule)"));
    EXPECT_EQ(step_of(t, "SIGKILL of unlocker"), -1);  // the unlocker did its part
  }
}

// The safety verdicts of the rfutex protocols in the unmap world: the
// guard makes guarded, guarded-v1 and hybrid safe with libc remaps, a raw
// remap defeats it.
class ModelVerdictsOf : public ::testing::TestWithParam<std::tuple<protocol, arch>> {};

TEST_P(ModelVerdictsOf, RfutexUserSpaceReleasesAreSafeWithTheGuardOnly) {
  const auto [p, a] = GetParam();
  const result r = check(with(p, a));
  for (property q : safety_properties) EXPECT_TRUE(of(r, q).holds) << to_string(q);
  options raw = with(p, a);
  raw.remapping = remap::raw;
  expect_release_remap_kill(of(check(raw), property::no_foreign_write));
}

INSTANTIATE_TEST_SUITE_P(UserSpaceReleases, ModelVerdictsOf,
                         ::testing::Combine(::testing::Values(protocol::guarded, protocol::guarded_v1,
                                                              protocol::hybrid),
                                            ::testing::Values(arch::x86_64, arch::i386, arch::arm64)),
                         [](const auto& instance) {
                           return param_name(std::string(to_string(std::get<0>(instance.param))) + "_" +
                                             std::string(to_string(std::get<1>(instance.param))));
                         });

}  // namespace
}  // namespace rfutex::model
