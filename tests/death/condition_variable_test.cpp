// SPDX-License-Identifier: MIT
// robust_condition_variable across threads and processes, with participants
// dying at awkward moments: nothing they leave behind breaks it.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <thread>
#include <vector>

#include "errors.hpp"
#include "linux/robust_list.hpp"
#include "mutex_types.hpp"
#include "process.hpp"
#include "rfutex/robust_condition_variable.hpp"
#include "strategy_fixture.hpp"

namespace {

using namespace std::chrono_literals;
using rfutex::lock_status;
using rfutex::robust_condition_variable;
using rfutex::test::child_process;
using rfutex::test::event;
using rfutex::test::shared;

RFUTEX_MUTEX_TYPED_SUITE(ConditionVariable);

template <class M>
struct arena {
  M m;
  robust_condition_variable cv;
  long produced = 0;
  long consumed = 0;
  int woken = 0;
  event ready;
};

// The word waiters sleep on: the condition variable's first four bytes.
const void* sleep_word(const robust_condition_variable& cv) { return &cv; }

TYPED_TEST(ConditionVariable, CarriesItemsFromAProducerProcess) {
  shared<arena<TypeParam>> a;
  constexpr long items = 2000;
  auto producer = child_process::fork([&] {
    for (long i = 0; i < items; ++i) {
      if (a->m.lock() != lock_status::acquired) return 1;
      ++a->produced;
      a->m.unlock();
      a->cv.notify_one();
    }
    return 0;
  });
  ASSERT_EQ(a->m.lock(), lock_status::acquired);
  while (a->consumed < items) {
    ASSERT_EQ(a->cv.wait(a->m, [&] { return a->produced > a->consumed; }), lock_status::acquired);
    a->consumed = a->produced;
  }
  a->m.unlock();
  EXPECT_TRUE(rfutex::test::exited_with(producer.wait(), 0));
  EXPECT_EQ(a->consumed, items);
}

TYPED_TEST(ConditionVariable, NotifyAllWakesEverySleeper) {
  shared<arena<TypeParam>> a;
  constexpr int waiters = 4;
  pid_t tids[waiters] = {};
  event started[waiters];
  std::vector<std::thread> pool;
  bool go = false;
  for (int i = 0; i < waiters; ++i)
    pool.emplace_back([&, i] {
      ASSERT_EQ(a->m.lock(), lock_status::acquired);
      tids[i] = rfutex::sys::gettid();
      started[i].set();
      ASSERT_EQ(a->cv.wait(a->m, [&] { return go; }), lock_status::acquired);
      ++a->woken;
      a->m.unlock();
    });
  for (int i = 0; i < waiters; ++i) {
    started[i].wait();
    rfutex::test::wait_until_blocked_on(getpid(), tids[i], sleep_word(a->cv));
  }
  ASSERT_EQ(a->m.lock(), lock_status::acquired);
  go = true;
  a->m.unlock();
  a->cv.notify_all();
  for (auto& t : pool) t.join();
  EXPECT_EQ(a->woken, waiters);
}

// A waiter in another process is SIGKILLed while it sleeps; the live waiter
// is still woken by notify_one, and the condition variable goes on working.
TYPED_TEST(ConditionVariable, AKilledSleeperBreaksNothing) {
  shared<arena<TypeParam>> a;
  auto doomed = child_process::fork([&] {
    if (a->m.lock() != lock_status::acquired) return 1;
    (void)a->cv.wait(a->m);
    return 2;  // not reached: killed while asleep
  });
  rfutex::test::wait_until_blocked_on(doomed.pid(), doomed.pid(), sleep_word(a->cv));
  doomed.kill(SIGKILL);
  EXPECT_TRUE(rfutex::test::killed_by(doomed.wait(), SIGKILL));

  pid_t tid = 0;
  event started;
  bool go = false;
  std::thread live([&] {
    ASSERT_EQ(a->m.lock(), lock_status::acquired);
    tid = rfutex::sys::gettid();
    started.set();
    ASSERT_EQ(a->cv.wait(a->m, [&] { return go; }), lock_status::acquired);
    ++a->woken;
    a->m.unlock();
  });
  started.wait();
  rfutex::test::wait_until_blocked_on(getpid(), tid, sleep_word(a->cv));
  ASSERT_EQ(a->m.lock(), lock_status::acquired);
  go = true;
  a->m.unlock();
  a->cv.notify_one();
  live.join();
  EXPECT_EQ(a->woken, 1);
}

// The mutex's holder notifies and dies holding the mutex: the woken waiter
// re-acquires it with owner_died, exactly as a plain lock() would report.
TYPED_TEST(ConditionVariable, AWaiterLearnsThatTheMutexHolderDied) {
  shared<arena<TypeParam>> a;
  pid_t tid = 0;
  event started;
  lock_status seen = lock_status::acquired;
  std::thread waiter([&] {
    ASSERT_EQ(a->m.lock(), lock_status::acquired);
    tid = rfutex::sys::gettid();
    started.set();
    seen = a->cv.wait(a->m);
    if (seen == lock_status::owner_died) a->m.make_consistent();
    a->m.unlock();
  });
  started.wait();
  rfutex::test::wait_until_blocked_on(getpid(), tid, sleep_word(a->cv));
  auto holder = child_process::fork([&] {
    if (a->m.lock() != lock_status::acquired) return 1;
    a->cv.notify_all();
    a->ready.set();
    pause();
    return 0;
  });
  a->ready.wait();
  holder.kill(SIGKILL);
  holder.wait();
  waiter.join();
  EXPECT_EQ(seen, lock_status::owner_died);
}

TYPED_TEST(ConditionVariable, TimedWaitTimesOutAndHoldsTheMutexAgain) {
  shared<arena<TypeParam>> a;
  ASSERT_EQ(a->m.lock(), lock_status::acquired);
  const auto r = a->cv.wait_for(a->m, 20ms);
  EXPECT_EQ(r.status, std::cv_status::timeout);
  EXPECT_EQ(r.lock, lock_status::acquired);
  EXPECT_EQ(a->m.owner(), rfutex::sys::gettid());
  const auto r2 = a->cv.wait_until(a->m, std::chrono::system_clock::now() + 5ms);
  EXPECT_EQ(r2.status, std::cv_status::timeout);
  a->m.unlock();
}

TYPED_TEST(ConditionVariable, WaitingWithoutTheMutexIsEpermAndChangesNothing) {
  shared<arena<TypeParam>> a;
  unsigned char before[sizeof(robust_condition_variable)];
  std::memcpy(before, &a->cv, sizeof before);
  EXPECT_EQ(rfutex::test::errno_thrown_by([&] { (void)a->cv.wait(a->m); }), EPERM);
  EXPECT_EQ(std::memcmp(before, &a->cv, sizeof before), 0);
}

TEST(ConditionVariableLayout, ZeroBytesAreReady) {
  alignas(robust_condition_variable) unsigned char bytes[sizeof(robust_condition_variable)];
  std::memset(bytes, 0xa5, sizeof bytes);
  new (bytes) robust_condition_variable;
  for (unsigned char b : bytes) EXPECT_EQ(b, 0);
}

}  // namespace
