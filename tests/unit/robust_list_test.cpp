// SPDX-License-Identifier: MIT
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
#include "rfutex/robust_pi_mutex.hpp"
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

// A robust pthread mutex owned by glibc (plain or PI), for interleaving.
struct glibc_robust {
  pthread_mutex_t m;
  explicit glibc_robust(bool pi) {
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
    pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
    if (pi) pthread_mutexattr_setprotocol(&a, PTHREAD_PRIO_INHERIT);
    pthread_mutex_init(&m, &a);
    pthread_mutexattr_destroy(&a);
  }
  ~glibc_robust() { pthread_mutex_destroy(&m); }
};

using any_lock = std::variant<std::unique_ptr<robust_mutex>, std::unique_ptr<rfutex::robust_pi_mutex>,
                              std::unique_ptr<glibc_robust>>;

const std::uint32_t* word_of(const any_lock& l) {
  return std::visit(
      [](const auto& p) {
        if constexpr (std::is_same_v<std::decay_t<decltype(*p)>, glibc_robust>)
          return reinterpret_cast<const std::uint32_t*>(&p->m);  // __lock at offset 0
        else
          return reinterpret_cast<const std::uint32_t*>(p.get());
      },
      l);
}

void take(any_lock& l) {
  std::visit(
      [](auto& p) {
        if constexpr (std::is_same_v<std::decay_t<decltype(*p)>, glibc_robust>)
          ASSERT_EQ(pthread_mutex_lock(&p->m), 0);
        else
          ASSERT_EQ(p->lock(), lock_status::acquired);
      },
      l);
}

void drop(any_lock& l) {
  std::visit(
      [](auto& p) {
        if constexpr (std::is_same_v<std::decay_t<decltype(*p)>, glibc_robust>)
          ASSERT_EQ(pthread_mutex_unlock(&p->m), 0);
        else
          p->unlock();
      },
      l);
}

// Every entry carries the PI tag exactly when its lock is a PI one.
bool pi_tags_right(const rfutex::test::kernel_list_view& view,
                   const std::vector<const std::uint32_t*>& pi_words) {
  for (std::size_t i = 0; i < view.words.size(); ++i) {
    const bool is_pi =
        std::find(pi_words.begin(), pi_words.end(), view.words[i]) != pi_words.end();
    if (view.pi[i] != is_pi) return false;
  }
  return true;
}

// Locks 2 each of rfutex plain, rfutex PI, glibc plain and glibc PI robust
// mutexes in a shuffled order, then unlocks them in another shuffled order,
// checking after every step that the kernel's view is exactly the set held,
// PI entries tagged. glibc's own unlink relies on the prev pointers rfutex
// maintains; a broken one corrupts the list and fails here.
TEST_F(RobustList, InterleavesWithGlibcRobustMutexesInAnyOrder) {
  std::mt19937 rng(12345);
  for (int round = 0; round < 200; ++round) {
    std::vector<any_lock> locks;
    std::vector<const std::uint32_t*> pi_words;
    for (int i = 0; i < 2; ++i) {
      locks.emplace_back(std::make_unique<robust_mutex>());
      locks.emplace_back(std::make_unique<rfutex::robust_pi_mutex>());
      pi_words.push_back(word_of(locks.back()));
      locks.emplace_back(std::make_unique<glibc_robust>(false));
      locks.emplace_back(std::make_unique<glibc_robust>(true));
      pi_words.push_back(word_of(locks.back()));
    }
    std::vector<std::size_t> order(locks.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::shuffle(order.begin(), order.end(), rng);
    std::vector<const std::uint32_t*> held;
    for (auto i : order) {
      take(locks[i]);
      held.push_back(word_of(locks[i]));
      const auto view = view_own_robust_list();
      ASSERT_TRUE(holds_exactly(view, held)) << "round " << round;
      ASSERT_TRUE(pi_tags_right(view, pi_words)) << "round " << round;
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
