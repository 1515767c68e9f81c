// SPDX-License-Identifier: MIT
// pthread_cancel of a thread blocked in robust_condition_variable::wait:
// the wait is a cancellation point (deferred and asynchronous cancellation
// alike), and the mutex is held again before the cleanup handlers run.
// Each scenario runs in a forked child (an abort there fails the test, not
// the test binary); the child's alarm bounds a wait that cancellation fails
// to interrupt.
#include <gtest/gtest.h>
#include <pthread.h>
#include <unistd.h>

#include <atomic>
#include <chrono>

#include "linux/robust_list.hpp"
#include "mutex_types.hpp"
#include "process.hpp"
#include "rfutex/robust_condition_variable.hpp"
#include "strategy_fixture.hpp"

namespace {

enum class wait_kind { untimed, timed };

template <class M>
struct scene {
  M m;
  rfutex::robust_condition_variable cv;
  std::atomic<pid_t> tid{0};
  int cancel_type = PTHREAD_CANCEL_DEFERRED;
  wait_kind kind = wait_kind::untimed;
  bool held_in_cleanup = false;
};

template <class M>
void unlock_in_cleanup(void* arg) {
  auto* s = static_cast<scene<M>*>(arg);
  s->held_in_cleanup = s->m.owner() == rfutex::sys::gettid();
  if (s->held_in_cleanup) s->m.unlock();
}

template <class M>
void* waiter(void* arg) {
  auto* s = static_cast<scene<M>*>(arg);
  (void)s->m.lock();
  pthread_setcanceltype(s->cancel_type, nullptr);
  pthread_cleanup_push(unlock_in_cleanup<M>, s);
  s->tid.store(rfutex::sys::gettid());
  s->tid.notify_all();
  for (;;) {  // nobody notifies: only cancellation ends this
    if (s->kind == wait_kind::untimed)
      (void)s->cv.wait(s->m);
    else
      (void)s->cv.wait_for(s->m, std::chrono::hours(1));
  }
  pthread_cleanup_pop(0);
  return nullptr;
}

// 0 when the cancelled waiter's cleanup found the mutex held, unlocked it, and
// the mutex is free again; another number says which step failed.
template <class M>
int cancel_a_waiter(int cancel_type, wait_kind kind) {
  alarm(30);
  scene<M> s;
  s.cancel_type = cancel_type;
  s.kind = kind;
  pthread_t t;
  if (pthread_create(&t, nullptr, waiter<M>, &s) != 0) return 1;
  while (s.tid.load() == 0) s.tid.wait(0);
  rfutex::test::wait_until_blocked_on(getpid(), s.tid.load(), &s.cv);
  if (pthread_cancel(t) != 0) return 2;
  void* result = nullptr;
  if (pthread_join(t, &result) != 0) return 3;
  if (result != PTHREAD_CANCELED) return 4;
  if (!s.held_in_cleanup) return 5;
  if (s.m.owner() != 0) return 6;
  if (!s.m.try_lock()) return 7;
  s.m.unlock();
  return 0;
}

RFUTEX_MUTEX_TYPED_SUITE(ConditionVariableCancellation);

template <class M>
void expect_cancelled_cleanly(int cancel_type, wait_kind kind) {
  auto child = rfutex::test::child_process::fork([&] { return cancel_a_waiter<M>(cancel_type, kind); });
  const int status = child.wait();
  EXPECT_TRUE(rfutex::test::exited_with(status, 0)) << rfutex::test::describe_status(status);
}

TYPED_TEST(ConditionVariableCancellation, DeferredCancelOfAWaiterRelocksBeforeCleanup) {
  expect_cancelled_cleanly<TypeParam>(PTHREAD_CANCEL_DEFERRED, wait_kind::untimed);
}

TYPED_TEST(ConditionVariableCancellation, AsynchronousCancelOfAWaiterRelocksBeforeCleanup) {
  expect_cancelled_cleanly<TypeParam>(PTHREAD_CANCEL_ASYNCHRONOUS, wait_kind::untimed);
}

TYPED_TEST(ConditionVariableCancellation, DeferredCancelOfATimedWaiterRelocksBeforeCleanup) {
  expect_cancelled_cleanly<TypeParam>(PTHREAD_CANCEL_DEFERRED, wait_kind::timed);
}

}  // namespace
