// The expected verdicts of issue 6, one test each: what `rfutex model`
// must find for each protocol, architecture and kernel behaviour.
#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "model/model.hpp"

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

}  // namespace
}  // namespace rfutex::model
