// SPDX-License-Identifier: MIT
// A deadlock cycle between PI locks. Thread A holds X and sleeps locking Y;
// the test thread holds Y and locks X: the kernel's chain walk finds the
// cycle and answers FUTEX_LOCK_PI2 with EDEADLK. That is no relock by the
// caller: a timed lock times out (as it would against a holder that keeps
// X), lock() reports the cycle as what it is.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <string>
#include <system_error>
#include <thread>

#include "linux/robust_list.hpp"
#include "process.hpp"
#include "rfutex/robust_pi_mutex.hpp"
#include "strategy_fixture.hpp"

namespace {

using namespace std::chrono_literals;
using rfutex::lock_status;
using rfutex::try_status;

class PiDeadlockCycle : public rfutex::test::strategy_test {
 protected:
  void SetUp() override {
    strategy_test::SetUp();
    if (IsSkipped()) return;
    alarm(60);  // a regression that sleeps for ever fails here instead
    ASSERT_EQ(y_.lock(), lock_status::acquired);
    a_ = std::thread([this] {
      (void)x_.lock();
      a_tid_.store(rfutex::sys::gettid());
      a_tid_.notify_all();
      (void)y_.lock();  // sleeps in FUTEX_LOCK_PI2 until the test thread lets Y go
      y_.unlock();
      x_.unlock();
    });
    a_tid_.wait(0);
    rfutex::test::wait_until_blocked_on(getpid(), a_tid_.load(), &y_);
  }
  void TearDown() override {
    if (a_.joinable()) {
      y_.unlock();
      a_.join();
      EXPECT_EQ(x_.owner(), 0);
    }
    alarm(0);
  }

  rfutex::robust_pi_mutex x_, y_;
  std::atomic<pid_t> a_tid_{0};
  std::thread a_;
};

TEST_F(PiDeadlockCycle, TimedLockWithAnExpiredDeadlineTimesOut) {
  EXPECT_EQ(x_.try_lock_until(std::chrono::steady_clock::now() - 1s).status(),
            try_status::timed_out);
  EXPECT_EQ(x_.try_lock_until(std::chrono::system_clock::now() - 1s).status(),
            try_status::timed_out);
  EXPECT_EQ(x_.owner(), a_tid_.load());
}

TEST_F(PiDeadlockCycle, TimedLockTimesOutAtItsDeadline) {
  const auto deadline = std::chrono::steady_clock::now() + 20ms;
  EXPECT_EQ(x_.try_lock_until(deadline).status(), try_status::timed_out);
  EXPECT_GE(std::chrono::steady_clock::now(), deadline);
  EXPECT_EQ(x_.try_lock_for(1ms).status(), try_status::timed_out);
  EXPECT_EQ(x_.owner(), a_tid_.load());
}

TEST_F(PiDeadlockCycle, TryLockIsBusy) {
  EXPECT_EQ(x_.try_lock().status(), try_status::busy);
}

TEST_F(PiDeadlockCycle, LockReportsTheCycleNotARelock) {
  try {
    (void)x_.lock();
    ADD_FAILURE() << "lock() took a lock held by thread A";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code().value(), EDEADLK);
    const std::string what = e.what();
    EXPECT_NE(what.find("deadlock cycle was detected"), std::string::npos) << what;
    EXPECT_EQ(what.find("holds it"), std::string::npos) << what;
  }
  EXPECT_EQ(x_.owner(), a_tid_.load()) << "a failed lock changes nothing";
  EXPECT_EQ(y_.owner(), rfutex::sys::gettid());
}

// The relock by the holder itself stays "the calling thread holds it".
TEST_F(PiDeadlockCycle, RelockIsStillReportedAsHeld) {
  try {
    (void)y_.lock();
    ADD_FAILURE() << "relock succeeded";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code().value(), EDEADLK);
    EXPECT_NE(std::string(e.what()).find("holds it"), std::string::npos) << e.what();
  }
}

}  // namespace
