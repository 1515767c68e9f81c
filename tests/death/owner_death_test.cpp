// SPDX-License-Identifier: MIT
// When the owner dies holding the mutex — killed, exiting, or just a thread
// returning — the kernel hands it over: the next locker acquires it with
// owner_died, and lockers already asleep in the kernel are woken.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <thread>

#include "linux/robust_list.hpp"
#include "process.hpp"
#include "rfutex/robust_mutex.hpp"
#include "mutex_types.hpp"
#include "strategy_fixture.hpp"

namespace {

using rfutex::lock_status;
using rfutex::test::child_process;
using rfutex::test::event;
using rfutex::test::shared;

RFUTEX_MUTEX_TYPED_SUITE(OwnerDeath);

template <class M>
struct arena {
  M m;
  event locked;
  event release_child;
};

// The child takes the mutex, announces it, and then dies as `die` says.
template <class M, class Die>
child_process child_dies_holding(arena<M>& a, Die die) {
  auto child = child_process::fork([&] {
    if (a.m.lock() != lock_status::acquired) return 1;
    a.locked.set();
    die();
    return 0;
  });
  a.locked.wait();
  return child;
}

template <class M>
void expect_owner_died_then_recovered(M& m) {
  ASSERT_EQ(m.lock(), lock_status::owner_died);
  EXPECT_FALSE(m.consistent());
  m.make_consistent();
  EXPECT_TRUE(m.consistent());
  m.unlock();
  ASSERT_EQ(m.lock(), lock_status::acquired) << "repaired: an ordinary mutex again";
  m.unlock();
}

TYPED_TEST(OwnerDeath, SigkillWhileHoldingGivesOwnerDied) {
  shared<arena<TypeParam>> a;
  auto child = child_dies_holding(*a, [] { pause(); });
  child.kill(SIGKILL);
  EXPECT_TRUE(rfutex::test::killed_by(child.wait(), SIGKILL));
  expect_owner_died_then_recovered(a->m);
}

TYPED_TEST(OwnerDeath, ExitWhileHoldingGivesOwnerDied) {
  shared<arena<TypeParam>> a;
  auto child = child_dies_holding(*a, [] { _exit(0); });
  EXPECT_TRUE(rfutex::test::exited_with(child.wait(), 0));
  expect_owner_died_then_recovered(a->m);
}

TYPED_TEST(OwnerDeath, CrashWhileHoldingGivesOwnerDied) {
  shared<arena<TypeParam>> a;
  auto child = child_dies_holding(*a, [] {
    signal(SIGSEGV, SIG_DFL);  // no sanitizer handler: a plain crash
    raise(SIGSEGV);
  });
  EXPECT_TRUE(rfutex::test::killed_by(child.wait(), SIGSEGV));
  expect_owner_died_then_recovered(a->m);
}

TYPED_TEST(OwnerDeath, ThreadReturningWhileHoldingGivesOwnerDied) {
  TypeParam m;
  std::thread([&] { ASSERT_EQ(m.lock(), lock_status::acquired); }).join();
  expect_owner_died_then_recovered(m);
}

TYPED_TEST(OwnerDeath, AllLocksOfADyingThreadAreHandedOver) {
  TypeParam m[5];
  std::thread([&] {
    for (auto& x : m) ASSERT_EQ(x.lock(), lock_status::acquired);
    m[2].unlock();  // one released, in the middle of the list
  }).join();
  for (int i = 0; i < 5; ++i) {
    if (i == 2) {
      ASSERT_EQ(m[i].lock(), lock_status::acquired);
      m[i].unlock();
    } else {
      expect_owner_died_then_recovered(m[i]);
    }
  }
}

// A waiter asleep in FUTEX_WAIT (checked through /proc, not timing) is woken
// by the kernel when the owner dies, and acquires with owner_died.
TYPED_TEST(OwnerDeath, ASleepingWaiterInAnotherProcessIsWoken) {
  struct world {
    arena<TypeParam> a;
    int waiter_result = -1;
  };
  shared<world> w;
  auto owner = child_dies_holding(w->a, [] { pause(); });
  auto waiter = child_process::fork([&] {
    const lock_status s = w->a.m.lock();
    w->waiter_result = static_cast<int>(s);
    return 0;
  });
  rfutex::test::wait_until_blocked_on(waiter.pid(), waiter.pid(), &w->a.m);
  owner.kill(SIGKILL);
  owner.wait();
  EXPECT_TRUE(rfutex::test::exited_with(waiter.wait(), 0)) << "woken, not left asleep";
  EXPECT_EQ(w->waiter_result, static_cast<int>(lock_status::owner_died));
}

TYPED_TEST(OwnerDeath, ASleepingWaiterThreadIsWoken) {
  shared<arena<TypeParam>> a;
  auto owner = child_dies_holding(*a, [] { pause(); });
  pid_t waiter_tid = 0;
  event started;
  lock_status seen = lock_status::acquired;
  std::thread waiter([&] {
    waiter_tid = rfutex::sys::gettid();
    started.set();
    seen = a->m.lock();
    a->m.make_consistent();
    a->m.unlock();
  });
  started.wait();
  rfutex::test::wait_until_blocked_on(getpid(), waiter_tid, &a->m);
  owner.kill(SIGKILL);
  owner.wait();
  waiter.join();
  EXPECT_EQ(seen, lock_status::owner_died);
}

// A repairer that dies before make_consistent() hands the mutex on as
// owner_died again: the data is still unrepaired.
TYPED_TEST(OwnerDeath, DeathDuringRepairGivesOwnerDiedAgain) {
  shared<arena<TypeParam>> a;
  {
    auto first = child_dies_holding(*a, [] { pause(); });
    first.kill(SIGKILL);
    first.wait();
  }
  auto repairer = child_process::fork([&] {
    if (a->m.lock() != lock_status::owner_died) return 1;
    _exit(0);  // dies mid-repair
    return 0;
  });
  EXPECT_TRUE(rfutex::test::exited_with(repairer.wait(), 0));
  expect_owner_died_then_recovered(a->m);
}

}  // namespace
