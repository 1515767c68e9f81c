// rfutex joins the thread's existing robust list (glibc's on this platform)
// and keeps it exactly as the kernel must see it, beside glibc's own robust
// mutexes, whatever the order of locking and unlocking.
#include <gtest/gtest.h>
#include <pthread.h>

#include <algorithm>
#include <memory>
#include <random>
#include <thread>
#include <variant>

#include "kernel_view.hpp"
#include "linux/robust_list.hpp"
#include "rfutex/capabilities.hpp"
#include "rfutex/robust_mutex.hpp"
#include "strategy_fixture.hpp"

namespace {

using rfutex::lock_status;
using rfutex::robust_mutex;
using rfutex::test::holds_exactly;
using rfutex::test::view_own_robust_list;

class RobustList : public rfutex::test::strategy_test {};

TEST_F(RobustList, JoinsTheHeadTheLibcRegisteredAndNeverReplacesIt) {
  rfutex::sys::robust_list_head* before = nullptr;
  std::size_t len = 0;
  ASSERT_EQ(rfutex::sys::get_robust_list(0, &before, &len), 0);
  robust_mutex m;
  ASSERT_EQ(m.lock(), lock_status::acquired);
  rfutex::sys::robust_list_head* during = nullptr;
  ASSERT_EQ(rfutex::sys::get_robust_list(0, &during, &len), 0);
  m.unlock();
#if defined(__GLIBC__)
  ASSERT_NE(before, nullptr) << "glibc registers a head for every thread";
  EXPECT_EQ(rfutex::current_robust_list().registrar, rfutex::list_registrar::glibc);
#endif
  if (before != nullptr) {
    EXPECT_EQ(during, before);
  } else {
    EXPECT_EQ(rfutex::current_robust_list().registrar, rfutex::list_registrar::rfutex);
  }
}

TEST_F(RobustList, AHeldMutexIsOnTheListAndLeavesItOnUnlock) {
  robust_mutex m;
  ASSERT_EQ(m.lock(), lock_status::acquired);
  auto held = view_own_robust_list();
  EXPECT_TRUE(holds_exactly(held, {reinterpret_cast<const std::uint32_t*>(&m)}));
  EXPECT_EQ(held.pending_word, nullptr) << "list_op_pending is cleared after the lock";
  m.unlock();
  auto after = view_own_robust_list();
  EXPECT_TRUE(holds_exactly(after, {}));
  EXPECT_EQ(after.pending_word, nullptr) << "list_op_pending is cleared after the unlock";
}

// A robust pthread mutex owned by glibc, for interleaving.
struct glibc_robust {
  pthread_mutex_t m;
  glibc_robust() {
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
    pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
    pthread_mutex_init(&m, &a);
    pthread_mutexattr_destroy(&a);
  }
  ~glibc_robust() { pthread_mutex_destroy(&m); }
};

using any_lock = std::variant<std::unique_ptr<robust_mutex>, std::unique_ptr<glibc_robust>>;

const std::uint32_t* word_of(const any_lock& l) {
  if (auto* r = std::get_if<0>(&l)) return reinterpret_cast<const std::uint32_t*>(r->get());
  return reinterpret_cast<const std::uint32_t*>(&std::get<1>(l)->m);  // __lock at offset 0
}

void take(any_lock& l) {
  if (auto* r = std::get_if<0>(&l))
    ASSERT_EQ((*r)->lock(), lock_status::acquired);
  else
    ASSERT_EQ(pthread_mutex_lock(&std::get<1>(l)->m), 0);
}

void drop(any_lock& l) {
  if (auto* r = std::get_if<0>(&l))
    (*r)->unlock();
  else
    ASSERT_EQ(pthread_mutex_unlock(&std::get<1>(l)->m), 0);
}

// Locks 3 rfutex and 3 glibc mutexes in a shuffled order, then unlocks them
// in another shuffled order, checking after every step that the kernel's
// view is exactly the set held. glibc's own unlink relies on the prev
// pointers rfutex maintains; a broken one corrupts the list and fails here.
TEST_F(RobustList, InterleavesWithGlibcRobustMutexesInAnyOrder) {
  std::mt19937 rng(12345);
  for (int round = 0; round < 200; ++round) {
    std::vector<any_lock> locks;
    for (int i = 0; i < 3; ++i) {
      locks.emplace_back(std::make_unique<robust_mutex>());
      locks.emplace_back(std::make_unique<glibc_robust>());
    }
    std::vector<std::size_t> order(locks.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::shuffle(order.begin(), order.end(), rng);
    std::vector<const std::uint32_t*> held;
    for (auto i : order) {
      take(locks[i]);
      held.push_back(word_of(locks[i]));
      ASSERT_TRUE(holds_exactly(view_own_robust_list(), held)) << "round " << round;
    }
    std::shuffle(order.begin(), order.end(), rng);
    for (auto i : order) {
      drop(locks[i]);
      held.erase(std::find(held.begin(), held.end(), word_of(locks[i])));
      ASSERT_TRUE(holds_exactly(view_own_robust_list(), held)) << "round " << round;
    }
  }
}

TEST_F(RobustList, EachThreadLinksIntoItsOwnList) {
  robust_mutex a, b;
  ASSERT_EQ(a.lock(), lock_status::acquired);
  bool other_ok = false;
  std::thread([&] {
    if (b.lock() != lock_status::acquired) return;
    other_ok = holds_exactly(view_own_robust_list(), {reinterpret_cast<const std::uint32_t*>(&b)});
    b.unlock();
    other_ok = other_ok && holds_exactly(view_own_robust_list(), {});
  }).join();
  EXPECT_TRUE(other_ok);
  EXPECT_TRUE(holds_exactly(view_own_robust_list(), {reinterpret_cast<const std::uint32_t*>(&a)}));
  a.unlock();
}

}  // namespace
