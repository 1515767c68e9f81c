// SPDX-License-Identifier: MIT
// The two shapes a free word may have after the kernel's robust unlock
// (futex(FUTEX_WAKE | FUTEX_ROBUST_UNLOCK) or the vDSO try-unlock):
//   - "kernel stores 0": Linux 7.2 writes 0 and then wakes one waiter, so a
//     locker may take the word between the store and the wake, while a
//     sleeper is still queued and its wake is in flight;
//   - "kernel keeps FUTEX_WAITERS": the proposed change leaves FUTEX_WAITERS
//     in the word (owner part 0) while waiters remain queued.
// Each shape is written into a mutex's word by hand, with and without a
// sleeper; the lock must take it as a normal free word (never owner_died),
// keep FUTEX_WAITERS where it was, and its unlock must wake the sleeper.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <fstream>
#include <string>

#include "linux/futex.hpp"
#include "linux/robust_list.hpp"
#include "mutex_types.hpp"
#include "process.hpp"
#include "rfutex/robust_mutex.hpp"
#include "rfutex/robust_pi_mutex.hpp"
#include "strategy_fixture.hpp"

namespace {

using rfutex::lock_status;
using rfutex::sys::futex_waiters;
using rfutex::test::child_process;
using rfutex::test::event;
using rfutex::test::shared;

// A sleeper stranded by a lost wake-up dies of SIGALRM instead of hanging.
constexpr unsigned sleeper_limit_s = 30;

// The futex word is the first 4 bytes of every lock (lock_storage.hpp).
template <class M>
std::atomic_ref<std::uint32_t> word_of(M& m) {
  return std::atomic_ref<std::uint32_t>(*reinterpret_cast<std::uint32_t*>(&m));
}

std::uint32_t my_tid() { return static_cast<std::uint32_t>(rfutex::sys::gettid()); }

RFUTEX_MUTEX_TYPED_SUITE(FreeWordWithoutSleeper);

TYPED_TEST(FreeWordWithoutSleeper, ZeroIsTakenAndReleasedToZero) {
  TypeParam m;
  word_of(m).store(0);
  ASSERT_EQ(m.lock(), lock_status::acquired);
  EXPECT_EQ(word_of(m).load(), my_tid());
  EXPECT_TRUE(m.consistent());
  m.unlock();
  EXPECT_EQ(word_of(m).load(), 0u);
}

// No sleeper: the bit is stale. A plain lock keeps it (one spare FUTEX_WAKE
// at unlock); FUTEX_LOCK_PI takes a TID-0 word and writes the bits it knows.
TYPED_TEST(FreeWordWithoutSleeper, WaitersWithoutOwnerIsFreeNotOwnerDied) {
  TypeParam m;
  word_of(m).store(futex_waiters);
  ASSERT_EQ(m.lock(), lock_status::acquired);
  EXPECT_TRUE(m.consistent());
  EXPECT_EQ(m.owner(), rfutex::sys::gettid());
  if constexpr (!rfutex::test::is_pi<TypeParam>) {
    EXPECT_EQ(word_of(m).load(), my_tid() | futex_waiters) << "FUTEX_WAITERS kept";
  }
  m.unlock();
  EXPECT_EQ(word_of(m).load(), 0u);
  ASSERT_EQ(m.lock(), lock_status::acquired) << "and the next lock takes it as usual";
  EXPECT_EQ(word_of(m).load(), my_tid());
  m.unlock();
}

TYPED_TEST(FreeWordWithoutSleeper, TryLockTakesAWaitersOnlyWord) {
  TypeParam m;
  word_of(m).store(futex_waiters);
  auto r = m.try_lock();
  ASSERT_TRUE(r);
  EXPECT_FALSE(r.owner_died());
  EXPECT_EQ(m.owner(), rfutex::sys::gettid());
  m.unlock();
  EXPECT_EQ(word_of(m).load(), 0u);
}

// With a sleeper: plain locks only. A PI sleeper is queued on the kernel's
// pi_state, which records the owner; a hand-written owner-0 word under it is
// not a state the kernel can produce (FUTEX_UNLOCK_PI hands the word over).
class FreeWordWithSleeper : public rfutex::test::strategy_test {
 protected:
  struct arena {
    rfutex::robust_mutex m;
    event parked;
  };

  // The "previous owner": a live process whose TID is in the word, so that
  // the sleeper sleeps; it never touches the lock (nothing of it is in any
  // robust list).
  child_process park_previous_owner() {
    return child_process::fork([this] {
      a_->parked.set();
      for (;;) ::pause();
      return 0;
    });
  }

  // A process that sleeps in lock() until woken, then must get the lock.
  child_process start_sleeper() {
    return child_process::fork([this] {
      ::alarm(sleeper_limit_s);
      const lock_status s = a_->m.lock();
      a_->m.unlock();
      return s == lock_status::acquired ? 0 : 1;
    });
  }

  // Waits until `pid` sleeps in futex() on the word and the word is `v`;
  // false if it ended first (e.g. SIGALRM: it was never woken).
  bool asleep_with(pid_t pid, std::uint32_t v) {
    const std::string proc = "/proc/" + std::to_string(pid);
    const auto word = reinterpret_cast<std::uintptr_t>(&a_->m);
    for (;; ::sched_yield()) {
      std::ifstream stat(proc + "/stat");
      std::string pid_field, comm, state;
      if (!(stat >> pid_field >> comm >> state) || state == "Z") return false;
      if (word_of(a_->m).load() != v) continue;
      std::ifstream sc(proc + "/syscall");
      long nr = -1;
      std::string arg0;
      if (!(sc >> nr >> arg0)) continue;  // "running": not in a system call
      if (rfutex::test::is_futex_syscall(nr) && std::stoull(arg0, nullptr, 16) == word) return true;
    }
  }

  shared<arena> a_;
};

TEST_F(FreeWordWithSleeper, ZeroWhileTheKernelsWakeIsInFlight) {
  auto owner = park_previous_owner();
  a_->parked.wait();
  const auto owner_tid = static_cast<std::uint32_t>(owner.pid());
  word_of(a_->m).store(owner_tid);
  auto sleeper = start_sleeper();
  ASSERT_TRUE(asleep_with(sleeper.pid(), owner_tid | futex_waiters));

  word_of(a_->m).store(0);  // the kernel's release store; its FUTEX_WAKE follows
  ASSERT_EQ(a_->m.lock(), lock_status::acquired);
  EXPECT_EQ(word_of(a_->m).load(), my_tid()) << "nothing in a 0 word tells of the sleeper";
  ASSERT_EQ(rfutex::sys::futex_wake(reinterpret_cast<std::uint32_t*>(&a_->m), 1), 1)
      << "the kernel's wake-up reaches the sleeper";
  // It finds the word held, marks it and sleeps again: our unlock must wake it.
  ASSERT_TRUE(asleep_with(sleeper.pid(), my_tid() | futex_waiters))
      << "the sleeper marked the word and slept again";
  a_->m.unlock();
  const int st = sleeper.wait();
  EXPECT_TRUE(rfutex::test::exited_with(st, 0)) << rfutex::test::describe_status(st);
  EXPECT_EQ(word_of(a_->m).load(), 0u);
  owner.kill();
}

TEST_F(FreeWordWithSleeper, WaitersKeptByTheKernelWithTheSleeperQueued) {
  auto owner = park_previous_owner();
  a_->parked.wait();
  const auto owner_tid = static_cast<std::uint32_t>(owner.pid());
  word_of(a_->m).store(owner_tid);
  auto sleeper = start_sleeper();
  ASSERT_TRUE(asleep_with(sleeper.pid(), owner_tid | futex_waiters));

  word_of(a_->m).store(futex_waiters);  // released, waiters remain: the bit stays
  ASSERT_EQ(a_->m.lock(), lock_status::acquired) << "a free word, not an owner death";
  EXPECT_TRUE(a_->m.consistent());
  EXPECT_EQ(word_of(a_->m).load(), my_tid() | futex_waiters) << "FUTEX_WAITERS kept";
  a_->m.unlock();  // the only wake-up the sleeper gets
  const int st = sleeper.wait();
  EXPECT_TRUE(rfutex::test::exited_with(st, 0)) << rfutex::test::describe_status(st);
  EXPECT_EQ(word_of(a_->m).load(), 0u);
  owner.kill();
}

}  // namespace
