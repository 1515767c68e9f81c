// SPDX-License-Identifier: MIT
// A thread holding glibc robust mutexes and rfutex mutexes (plain and PI) at
// once, linked in one list in any interleaving, is killed: the kernel
// recovers every kind.
#include <gtest/gtest.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <random>

#include "process.hpp"
#include "rfutex/robust_mutex.hpp"
#include "rfutex/robust_pi_mutex.hpp"
#include "strategy_fixture.hpp"

namespace {

using rfutex::lock_status;
using rfutex::robust_mutex;
using rfutex::test::child_process;
using rfutex::test::shared;

class MixedWithGlibc : public rfutex::test::strategy_test {};

constexpr int per_kind = 4;

struct arena {
  robust_mutex ours[per_kind];
  rfutex::robust_pi_mutex ours_pi[per_kind];
  pthread_mutex_t theirs[per_kind];
  rfutex::test::event ready;
  arena() {
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
    pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
    for (auto& m : theirs) pthread_mutex_init(&m, &a);
    pthread_mutexattr_destroy(&a);
  }
};

// The child locks all 2*per_kind mutexes in a seeded random order, unlocks a
// few of them (unlinking from the middle of the mixed list) and relocks them,
// then is killed holding everything.
int hold_all_interleaved(arena& a, unsigned seed) {
  std::mt19937 rng(seed);
  std::vector<int> order;
  for (int i = 0; i < 3 * per_kind; ++i) order.push_back(i);
  auto take = [&](int i) {
    if (i < per_kind) return a.ours[i].lock() == lock_status::acquired;
    if (i < 2 * per_kind) return a.ours_pi[i - per_kind].lock() == lock_status::acquired;
    return pthread_mutex_lock(&a.theirs[i - 2 * per_kind]) == 0;
  };
  auto drop = [&](int i) {
    if (i < per_kind)
      a.ours[i].unlock();
    else if (i < 2 * per_kind)
      a.ours_pi[i - per_kind].unlock();
    else
      pthread_mutex_unlock(&a.theirs[i - 2 * per_kind]);
  };
  std::shuffle(order.begin(), order.end(), rng);
  for (int i : order)
    if (!take(i)) return 1;
  std::shuffle(order.begin(), order.end(), rng);
  for (int k = 0; k < 3; ++k) drop(order[static_cast<std::size_t>(k)]);
  for (int k = 0; k < 3; ++k)
    if (!take(order[static_cast<std::size_t>(k)])) return 2;
  a.ready.set();
  pause();
  return 0;
}

TEST_F(MixedWithGlibc, KilledHolderOfBothKindsHasBothRecovered) {
  for (unsigned seed = 1; seed <= 8; ++seed) {
    shared<arena> a;
    auto child = child_process::fork([&] { return hold_all_interleaved(*a, seed); });
    a->ready.wait();
    child.kill(SIGKILL);
    ASSERT_TRUE(rfutex::test::killed_by(child.wait(), SIGKILL));
    for (auto& m : a->ours) {
      ASSERT_EQ(m.lock(), lock_status::owner_died) << "seed " << seed;
      m.make_consistent();
      m.unlock();
    }
    for (auto& m : a->ours_pi) {
      ASSERT_EQ(m.lock(), lock_status::owner_died) << "seed " << seed;
      m.make_consistent();
      m.unlock();
    }
    for (auto& m : a->theirs) {
      ASSERT_EQ(pthread_mutex_lock(&m), EOWNERDEAD) << "seed " << seed;
      pthread_mutex_consistent(&m);
      pthread_mutex_unlock(&m);
    }
  }
}

}  // namespace
