// SPDX-License-Identifier: MIT
// robust_shared_mutex without deaths: readers share, a writer excludes
// everyone, the standard wrappers work, bad use is a clear error.
#include <gtest/gtest.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <mutex>
#include <shared_mutex>
#include <thread>
#include <vector>

#include "errors.hpp"
#include "process.hpp"
#include "rfutex/robust_shared_mutex.hpp"
#include "strategy_fixture.hpp"

namespace {

using rfutex::lock_status;
using rfutex::robust_shared_mutex;
using rfutex::try_status;
using rfutex::test::errno_thrown_by;
using rfutex::test::shared;

class SharedMutex : public rfutex::test::strategy_test {};

TEST_F(SharedMutex, ZeroBytesAreAnUnlockedConsistentLock) {
  alignas(8) unsigned char bytes[sizeof(robust_shared_mutex)] = {};
  auto* m = reinterpret_cast<robust_shared_mutex*>(bytes);
  EXPECT_TRUE(m->consistent());
  EXPECT_EQ(m->writer(), 0);
  EXPECT_EQ(m->readers(), 0);
  ASSERT_EQ(m->lock(), lock_status::acquired);
  m->unlock();
}

TEST_F(SharedMutex, ReadersShareAndAWriterExcludesThem) {
  robust_shared_mutex m;
  ASSERT_EQ(m.lock_shared(), lock_status::acquired);
  std::thread other([&] {
    EXPECT_EQ(m.try_lock().status(), try_status::busy) << "a writer waits for readers";
    EXPECT_EQ(m.try_lock_shared().status(), try_status::acquired) << "a second reader shares it";
    EXPECT_EQ(errno_thrown_by([&] { (void)m.try_lock(); }), EDEADLK) << "it holds it shared itself";
    EXPECT_EQ(m.readers(), 2);
    m.unlock_shared();
  });
  other.join();
  m.unlock_shared();
  ASSERT_EQ(m.lock(), lock_status::acquired);
  std::thread reader([&] {
    EXPECT_EQ(m.try_lock_shared().status(), try_status::busy) << "a reader waits for the writer";
    EXPECT_EQ(m.try_lock().status(), try_status::busy);
  });
  reader.join();
  m.unlock();
}

// A blocking lock() with a reader inside does not enter: it sleeps in the
// kernel on the reader's slot until the reader leaves.
TEST_F(SharedMutex, AWriterSleepsUntilTheReaderLeaves) {
  robust_shared_mutex m;
  ASSERT_EQ(m.lock_shared(), lock_status::acquired);
  std::atomic<pid_t> writer_tid{0};
  std::atomic<bool> entered{false};
  std::thread writer([&] {
    writer_tid = gettid();
    EXPECT_EQ(m.lock(), lock_status::acquired);
    entered = true;
    m.unlock();
  });
  while (writer_tid == 0) std::this_thread::yield();
  // The reader slots' words: 40 bytes each after the writer's (docs/layout.md).
  const auto* slot_words = reinterpret_cast<const unsigned char*>(&m) + 40;
  bool asleep = false;
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!asleep && !entered && std::chrono::steady_clock::now() < give_up) {
    for (int i = 0; i < robust_shared_mutex::max_readers && !asleep; ++i)
      asleep = rfutex::test::blocked_in_futex_on(getpid(), writer_tid, slot_words + 40 * i);
    if (!asleep) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_FALSE(entered) << "the writer entered beside a reader";
  EXPECT_TRUE(asleep) << "the writer never went to sleep on a reader slot";
  m.unlock_shared();
  writer.join();
  EXPECT_TRUE(entered) << "the reader's leaving did not let the writer in";
}

TEST_F(SharedMutex, StandardWrappersWork) {
  robust_shared_mutex m;
  {
    std::shared_lock<robust_shared_mutex> r(m);
    EXPECT_EQ(m.readers(), 1);
  }
  {
    std::unique_lock<robust_shared_mutex> w(m);
    EXPECT_EQ(m.writer(), static_cast<pid_t>(gettid()));
  }
  std::shared_lock<robust_shared_mutex> timed(m, std::chrono::milliseconds(10));
  EXPECT_TRUE(timed.owns_lock());
}

TEST_F(SharedMutex, TimedLocksTimeOutOnBothClocksAndSides) {
  robust_shared_mutex m;
  ASSERT_EQ(m.lock_shared(), lock_status::acquired);
  std::thread writer([&] {
    EXPECT_EQ(m.try_lock_for(std::chrono::milliseconds(5)).status(), try_status::timed_out);
    EXPECT_EQ(m.try_lock_until(std::chrono::system_clock::now()).status(), try_status::timed_out);
    EXPECT_EQ(m.writer(), 0) << "a timed-out writer gives the writer word back";
  });
  writer.join();
  m.unlock_shared();
  ASSERT_EQ(m.lock(), lock_status::acquired);
  std::thread reader([&] {
    EXPECT_EQ(m.try_lock_shared_for(std::chrono::milliseconds(5)).status(), try_status::timed_out);
    EXPECT_EQ(m.try_lock_shared_until(std::chrono::system_clock::now()).status(), try_status::timed_out);
  });
  reader.join();
  m.unlock();
}

TEST_F(SharedMutex, MisuseIsAClearError) {
  robust_shared_mutex m;
  EXPECT_EQ(errno_thrown_by([&] { m.unlock_shared(); }), EPERM);
  EXPECT_EQ(errno_thrown_by([&] { m.unlock(); }), EPERM);
  ASSERT_EQ(m.lock_shared(), lock_status::acquired);
  EXPECT_EQ(errno_thrown_by([&] { (void)m.lock(); }), EDEADLK) << "lock() while holding it shared";
  EXPECT_EQ(m.writer(), 0) << "the failed lock() gave the writer word back";
  m.unlock_shared();
  ASSERT_EQ(m.lock(), lock_status::acquired);
  EXPECT_EQ(errno_thrown_by([&] { (void)m.lock_shared(); }), EDEADLK);
  EXPECT_EQ(errno_thrown_by([&] { m.make_consistent(); }), EINVAL);
  m.unlock();
}

TEST_F(SharedMutex, MoreReadersThanSlotsWaitAndAllGetIn) {
  robust_shared_mutex m;
  constexpr int threads = robust_shared_mutex::max_readers + 5;
  std::atomic<int> inside{0}, peak{0}, done{0};
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&] {
      for (int i = 0; i < 200; ++i) {
        ASSERT_EQ(m.lock_shared(), lock_status::acquired);
        const int now = ++inside;
        int p = peak.load();
        while (now > p && !peak.compare_exchange_weak(p, now)) {
        }
        --inside;
        m.unlock_shared();
      }
      ++done;
    });
  for (auto& t : pool) t.join();
  EXPECT_EQ(done.load(), threads);
  EXPECT_LE(peak.load(), robust_shared_mutex::max_readers);
  EXPECT_EQ(m.readers(), 0);
}

// Writers keep an invariant (two counters equal) that readers check, with
// threads of several processes.
TEST_F(SharedMutex, ReadersNeverSeeAHalfWrite) {
  struct arena {
    robust_shared_mutex m;
    std::uint64_t a = 0, b = 0;
    std::uint32_t torn = 0;
  };
  shared<arena> s;
  auto work = [&] {
    for (int i = 0; i < 3000; ++i) {
      if (i % 4 == 0) {
        if (s->m.lock() != lock_status::acquired) return 1;
        s->a = s->a + 1;
        std::atomic_signal_fence(std::memory_order_seq_cst);
        s->b = s->b + 1;
        s->m.unlock();
      } else {
        if (s->m.lock_shared() != lock_status::acquired) return 1;
        if (s->a != s->b) std::atomic_ref<std::uint32_t>(s->torn).fetch_add(1);
        s->m.unlock_shared();
      }
    }
    return 0;
  };
  auto p1 = rfutex::test::child_process::fork(work);
  auto p2 = rfutex::test::child_process::fork(work);
  std::thread t(work);
  EXPECT_EQ(work(), 0);
  t.join();
  EXPECT_TRUE(rfutex::test::exited_with(p1.wait(), 0));
  EXPECT_TRUE(rfutex::test::exited_with(p2.wait(), 0));
  EXPECT_EQ(s->torn, 0u);
  EXPECT_EQ(s->a, 4u * 750u);
  EXPECT_EQ(s->a, s->b);
}

}  // namespace
