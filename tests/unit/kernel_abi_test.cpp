// SPDX-License-Identifier: MIT
// The Linux 7.2 robust-unlock ABI, checked against the running kernel: what
// rfutex's kernel strategy relies on. Skipped, with the reason, where the
// kernel lacks it (the VM suite runs them on 7.2).
#include <gtest/gtest.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <thread>

#include "linux/capabilities.hpp"
#include "linux/futex.hpp"
#include "linux/robust_list.hpp"
#include "process.hpp"

namespace {

using namespace rfutex::sys;

constexpr std::uint64_t slot_marker = 0x1122334455667788ull;

using try_unlock64_fn = std::uint32_t (*)(std::uint32_t*, std::uint32_t, std::uint64_t*);
using try_unlock32_fn = std::uint32_t (*)(std::uint32_t*, std::uint32_t, std::uint32_t*);

template <class Fn>
Fn as_fn(const void* p) {
  return reinterpret_cast<Fn>(const_cast<void*>(p));
}

#define REQUIRE_SYMBOL(ptr, name) \
  if ((ptr) == nullptr) GTEST_SKIP() << "kernel " << probe().release << ": vDSO has no " name

#define REQUIRE_ROBUST_UNLOCK()                                                          \
  if (!probe().robust_unlock_flag())                                                     \
  GTEST_SKIP() << "kernel " << probe().release << ": FUTEX_ROBUST_UNLOCK answers "       \
               << std::strerror(probe().robust_unlock_errno)

std::uint32_t my_tid() { return static_cast<std::uint32_t>(rfutex::sys::gettid()); }

// --- vDSO try-unlock ------------------------------------------------------

#if defined(__x86_64__)
TEST(VdsoTryUnlock64, UncontendedReturnsTidZeroesWordClearsSlot) {
  REQUIRE_SYMBOL(probe().try_unlock64, "__vdso_futex_robust_list64_try_unlock");
  std::uint32_t word = my_tid();
  std::uint64_t slot = slot_marker;
  EXPECT_EQ(as_fn<try_unlock64_fn>(probe().try_unlock64)(&word, my_tid(), &slot), my_tid());
  EXPECT_EQ(word, 0u);
  EXPECT_EQ(slot, 0u);
}

TEST(VdsoTryUnlock64, ContendedReturnsTheWordAndChangesNothing) {
  REQUIRE_SYMBOL(probe().try_unlock64, "__vdso_futex_robust_list64_try_unlock");
  std::uint32_t word = my_tid() | futex_waiters;
  std::uint64_t slot = slot_marker;
  EXPECT_EQ(as_fn<try_unlock64_fn>(probe().try_unlock64)(&word, my_tid(), &slot),
            my_tid() | futex_waiters);
  EXPECT_EQ(word, my_tid() | futex_waiters);
  EXPECT_EQ(slot, slot_marker);
}
#endif

TEST(VdsoTryUnlock32, UncontendedReturnsTidZeroesWordClearsOnlyA32BitSlot) {
  REQUIRE_SYMBOL(probe().try_unlock32, "__vdso_futex_robust_list32_try_unlock");
  std::uint32_t word = my_tid();
  std::uint32_t slot[2] = {0x55667788u, 0x11223344u};
  EXPECT_EQ(as_fn<try_unlock32_fn>(probe().try_unlock32)(&word, my_tid(), &slot[0]), my_tid());
  EXPECT_EQ(word, 0u);
  EXPECT_EQ(slot[0], 0u);
  EXPECT_EQ(slot[1], 0x11223344u) << "a 32-bit slot: the next word is untouched";
}

TEST(VdsoTryUnlock32, ContendedReturnsTheWordAndChangesNothing) {
  REQUIRE_SYMBOL(probe().try_unlock32, "__vdso_futex_robust_list32_try_unlock");
  std::uint32_t word = my_tid() | futex_waiters;
  std::uint32_t slot = 0x55667788u;
  EXPECT_EQ(as_fn<try_unlock32_fn>(probe().try_unlock32)(&word, my_tid(), &slot),
            my_tid() | futex_waiters);
  EXPECT_EQ(word, my_tid() | futex_waiters);
  EXPECT_EQ(slot, 0x55667788u);
}

TEST(VdsoTryUnlock, ANonOwnerChangesNothing) {
  REQUIRE_SYMBOL(probe().try_unlock, "native try-unlock");
  std::uint32_t word = 4242;
  std::uintptr_t slot = 77;
  EXPECT_EQ(probe().try_unlock(&word, my_tid(), &slot), 4242u);
  EXPECT_EQ(word, 4242u);
  EXPECT_EQ(slot, 77u);
}

// --- FUTEX_ROBUST_UNLOCK ---------------------------------------------------

struct robust_unlock_case {
  const char* name;
  int op;       // futex_op_wake, futex_op_wake_bitset, futex_op_unlock_pi
  bool list32;  // FUTEX_ROBUST_LIST32: a 32-bit slot
};

class RobustUnlockFlag : public ::testing::TestWithParam<robust_unlock_case> {};

// A waiter blocks on the word (FUTEX_WAIT_BITSET, or FUTEX_LOCK_PI for the PI
// op); the owner's robust unlock must store 0 (or hand the PI futex over),
// clear exactly the slot's width, and wake the waiter.
TEST_P(RobustUnlockFlag, ReleasesClearsTheSlotAndWakes) {
  REQUIRE_ROBUST_UNLOCK();
  const auto& c = GetParam();
  if (sizeof(void*) == 4 && !c.list32) GTEST_SKIP() << "a 32-bit process has no 64-bit slot";
  const bool pi = c.op == futex_op_unlock_pi;

  alignas(8) std::uint32_t word = my_tid();
  alignas(8) std::uint32_t slot[2] = {0x55667788u, 0x11223344u};
  pid_t waiter_tid = 0;
  long waiter_result = 1;
  rfutex::test::event started;
  if (!pi) word |= futex_waiters;  // the waiter's protocol would have set it
  std::thread waiter([&] {
    waiter_tid = rfutex::sys::gettid();
    started.set();
    waiter_result = pi ? futex_lock_pi(&word, nullptr) : futex_wait(&word, word, nullptr);
  });
  started.wait();
  rfutex::test::wait_until_blocked_on(getpid(), waiter_tid, &word);

  const long r = futex_robust_unlock(&word, c.op, 1, slot, c.list32);
  EXPECT_GE(r, 0) << std::strerror(static_cast<int>(-r));
  waiter.join();
  EXPECT_EQ(waiter_result, 0) << "the waiter was woken (and, for PI, given the lock)";
  if (pi)
    EXPECT_EQ(word & futex_tid_mask, static_cast<std::uint32_t>(waiter_tid))
        << "the PI futex went to the waiter";
  else
    EXPECT_EQ(word, 0u) << "the kernel stored 0";
  EXPECT_EQ(slot[0], 0u) << "the pending slot was cleared";
  if (c.list32)
    EXPECT_EQ(slot[1], 0x11223344u) << "a 32-bit slot: the next word is untouched";
  else
    EXPECT_EQ(slot[1], 0u) << "a 64-bit slot is cleared whole";
}

TEST_P(RobustUnlockFlag, WithoutWaitersReleasesAndClears) {
  REQUIRE_ROBUST_UNLOCK();
  const auto& c = GetParam();
  if (sizeof(void*) == 4 && !c.list32) GTEST_SKIP() << "a 32-bit process has no 64-bit slot";
  alignas(8) std::uint32_t word = my_tid();
  alignas(8) std::uint32_t slot[2] = {0x55667788u, 0x11223344u};
  const long r = futex_robust_unlock(&word, c.op, 1, slot, c.list32);
  EXPECT_EQ(r, 0) << std::strerror(static_cast<int>(-r));
  EXPECT_EQ(word, 0u);
  EXPECT_EQ(slot[0], 0u);
}

INSTANTIATE_TEST_SUITE_P(
    Ops, RobustUnlockFlag,
    ::testing::Values(robust_unlock_case{"wake_list64", futex_op_wake, false},
                      robust_unlock_case{"wake_list32", futex_op_wake, true},
                      robust_unlock_case{"wake_bitset_list64", futex_op_wake_bitset, false},
                      robust_unlock_case{"wake_bitset_list32", futex_op_wake_bitset, true},
                      robust_unlock_case{"unlock_pi_list64", futex_op_unlock_pi, false},
                      robust_unlock_case{"unlock_pi_list32", futex_op_unlock_pi, true}),
    [](const auto& p) { return std::string(p.param.name); });

// Any other op with the flag is ENOSYS — on 7.2 because the op does not take
// it, before 7.2 because the flag is unknown. This one runs everywhere.
TEST(RobustUnlockFlagOtherOps, AreEnosys) {
  std::uint32_t word = 1;  // not ours: a WAIT would fail with EAGAIN if it were accepted
  std::uintptr_t slot = 0;
  for (int op : {futex_op_wait, futex_op_wait_bitset, futex_op_lock_pi, futex_op_trylock_pi,
                 futex_op_lock_pi2, 3 /* REQUEUE */, 4 /* CMP_REQUEUE */, 5 /* WAKE_OP */}) {
    const long r = futex(&word, op | futex_flag_robust_unlock, 0, nullptr, &slot, 0);
    EXPECT_EQ(r, -ENOSYS) << "op " << op;
  }
  EXPECT_EQ(word, 1u);
}

}  // namespace
