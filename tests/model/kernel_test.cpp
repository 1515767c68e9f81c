// SPDX-License-Identifier: MIT
// The kernel functions of the model against the 7.2 semantics they stand
// for: handle_futex_death() via kill(), the fix-up's gates and decisions,
// FUTEX_ROBUST_UNLOCK.
#include <gtest/gtest.h>

#include "model/kernel.hpp"
#include "model/programs.hpp"

namespace rfutex::model {
namespace {

struct fixture {
  explicit fixture(options opts) : o(opts), prog(make_program(o.proto, o.machine)), k(o, prog) {}
  std::uint64_t ip_of(std::string_view label) const {
    for (const auto& i : prog.code)
      if (i.label == label) return i.address();
    ADD_FAILURE() << "no label " << label;
    return 0;
  }
  options o;
  program prog;
  kernel k;
};

// Dying while owning a linked lock with waiters: OWNER_DIED|WAITERS.
TEST(ModelKernel, DeathOfOwnerSetsOwnerDiedAndKeepsWaiters) {
  fixture f(defaults_for(protocol::glibc, arch::x86_64));
  state s;
  s.lock_word = unlocker_tid | futex_waiters;
  f.k.kill(s, nullptr);
  EXPECT_EQ(s.lock_word, futex_owner_died | futex_waiters);
  EXPECT_EQ(s.where, mode::dead);
  EXPECT_FALSE(s.lost_lock);
  EXPECT_FALSE(s.foreign_write);
}

// The pending op of a released lock (word 0, or another owner): no write.
TEST(ModelKernel, PendingOpOfReleasedLockWritesNothing) {
  fixture f(defaults_for(protocol::glibc, arch::x86_64));
  for (std::uint32_t word : {0u, other_tid, other_tid | futex_waiters}) {
    state s;
    s.linked = false;
    s.pending = true;
    s.lock_word = word;
    effect_log log;
    f.k.kill(s, &log);
    EXPECT_EQ(s.lock_word, word);
    EXPECT_FALSE(s.lost_lock);
    EXPECT_FALSE(s.foreign_write);
  }
}

// A pending pointer into the remapped page whose word holds the TID: the
// TID check passes and the kernel writes into the file.
TEST(ModelKernel, PendingOpIntoRemappedPageIsAForeignWrite) {
  fixture f(defaults_for(protocol::glibc, arch::x86_64));
  state s;
  s.linked = false;
  s.pending = true;
  s.lock_word = other_tid;
  s.mapped = page::file;
  f.k.kill(s, nullptr);
  EXPECT_TRUE(s.foreign_write);
  EXPECT_EQ(s.file_word, futex_owner_died);
  EXPECT_EQ(s.lock_word, other_tid);
}

// Held, unlinked, no pending pointer: nothing tells the kernel about the lock.
TEST(ModelKernel, HeldLockOutsideListAndPendingIsLost) {
  fixture f(defaults_for(protocol::vdso, arch::x86_64));
  state s;
  s.linked = false;
  s.pending = false;
  f.k.kill(s, nullptr);
  EXPECT_TRUE(s.lost_lock);
  EXPECT_EQ(s.lock_word, unlocker_tid);
}

// The fix-up's gates: compiled out, user_irq not noted, ip outside.
TEST(ModelKernel, FixupGates) {
  options off = defaults_for(protocol::vdso, arch::x86_64);
  off.fixup = false;
  fixture f_off(off);
  fixture f(defaults_for(protocol::vdso, arch::x86_64));
  state s;
  s.pending = true;
  s.zf = true;
  f_off.k.fixup_robust_unlock(s, f_off.ip_of("cs_start"), true, nullptr);
  EXPECT_TRUE(s.pending);
  f.k.fixup_robust_unlock(s, f.ip_of("cs_start"), false, nullptr);
  EXPECT_TRUE(s.pending);
  f.k.fixup_robust_unlock(s, f.ip_of("cs_end"), true, nullptr);  // end is exclusive
  EXPECT_TRUE(s.pending);
  f.k.fixup_robust_unlock(s, handler_ip, true, nullptr);
  EXPECT_TRUE(s.pending);
  f.k.fixup_robust_unlock(s, f.ip_of("cs_start"), true, nullptr);
  EXPECT_FALSE(s.pending);
}

// x86: ZF decides, at cs_start and at cs_success alike.
TEST(ModelKernel, X86DecisionFollowsZeroFlag) {
  fixture f(defaults_for(protocol::vdso, arch::i386));
  for (const char* at : {"cs_start", "cs_success"}) {
    state s;
    s.pending = true;
    s.zf = false;
    f.k.fixup_robust_unlock(s, f.ip_of(at), true, nullptr);
    EXPECT_TRUE(s.pending) << at;
    s.zf = true;
    f.k.fixup_robust_unlock(s, f.ip_of(at), true, nullptr);
    EXPECT_FALSE(s.pending) << at;
  }
}

// arm64: at cs_start only w3 == 0 means released; at cs_success always.
// The naive hook misses the first case.
TEST(ModelKernel, Arm64DecisionNeedsW3AtCsStart) {
  options o = defaults_for(protocol::vdso, arch::arm64);
  fixture correct(o);
  o.decide = decider::naive;
  fixture naive(o);
  state s;
  s.pending = true;
  s.w3 = 1;
  correct.k.fixup_robust_unlock(s, correct.ip_of("cs_start"), true, nullptr);
  EXPECT_TRUE(s.pending);
  s.w3 = 0;
  naive.k.fixup_robust_unlock(s, naive.ip_of("cs_start"), true, nullptr);
  EXPECT_TRUE(s.pending);
  correct.k.fixup_robust_unlock(s, correct.ip_of("cs_start"), true, nullptr);
  EXPECT_FALSE(s.pending);
  s.pending = true;
  naive.k.fixup_robust_unlock(s, naive.ip_of("cs_success"), true, nullptr);
  EXPECT_FALSE(s.pending);
}

// The fix-up runs before delivery: a fatal signal at cs_start after a
// successful cmpxchg leaves nothing for exit processing to follow.
TEST(ModelKernel, ExitToUserModeRunsFixupBeforeDelivery) {
  fixture f(defaults_for(protocol::vdso, arch::x86_64));
  state s;
  s.linked = false;
  s.pending = true;
  s.zf = true;
  s.lock_word = other_tid;
  s.mapped = page::file;
  f.k.exit_to_user_mode(s, f.ip_of("cs_start"), true, signal_kind::fatal, nullptr);
  EXPECT_EQ(s.where, mode::dead);
  EXPECT_FALSE(s.foreign_write);
  EXPECT_EQ(s.file_word, unlocker_tid);
}

TEST(ModelKernel, RobustUnlockReleasesAndClears) {
  fixture f(defaults_for(protocol::vdso, arch::i386));
  state s;
  s.linked = false;
  s.pending = true;
  s.lock_word = unlocker_tid | futex_waiters;
  effect_log log;
  f.k.robust_unlock(s, &log);
  EXPECT_EQ(s.lock_word, 0u);
  EXPECT_FALSE(s.pending);
  ASSERT_EQ(log.size(), 1u);
  EXPECT_NE(log[0].find("32-bit pending slot"), std::string::npos);
}

}  // namespace
}  // namespace rfutex::model
