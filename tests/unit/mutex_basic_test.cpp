// Single-process behaviour of robust_mutex: ownership, errors, and the
// standard lock adaptors.
#include <gtest/gtest.h>

#include <mutex>
#include <system_error>
#include <thread>

#include "linux/robust_list.hpp"
#include "rfutex/robust_mutex.hpp"
#include "mutex_types.hpp"
#include "errors.hpp"
#include "strategy_fixture.hpp"

namespace {

using rfutex::lock_status;
using rfutex::try_status;

RFUTEX_MUTEX_TYPED_SUITE(RobustMutex);

TYPED_TEST(RobustMutex, LockRecordsTheCallersTid) {
  TypeParam m;
  ASSERT_EQ(m.lock(), lock_status::acquired);
  EXPECT_EQ(m.owner(), rfutex::sys::gettid());
  m.unlock();
  EXPECT_EQ(m.owner(), 0);
}

TYPED_TEST(RobustMutex, TryLockIsBusyWhileAnotherThreadHoldsIt) {
  TypeParam m;
  ASSERT_EQ(m.lock(), lock_status::acquired);
  try_status seen = try_status::acquired;
  std::thread([&] { seen = m.try_lock().status(); }).join();
  EXPECT_EQ(seen, try_status::busy);
  m.unlock();
  std::thread([&] {
    auto r = m.try_lock();
    seen = r.status();
    if (r) m.unlock();
  }).join();
  EXPECT_EQ(seen, try_status::acquired);
}

TYPED_TEST(RobustMutex, RelockingByTheOwnerIsEdeadlkAndChangesNothing) {
  TypeParam m;
  ASSERT_EQ(m.lock(), lock_status::acquired);
  EXPECT_EQ(rfutex::test::errno_thrown_by([&] { (void)m.lock(); }), EDEADLK);
  EXPECT_EQ(rfutex::test::errno_thrown_by([&] { (void)m.try_lock(); }), EDEADLK);
  EXPECT_EQ(rfutex::test::errno_thrown_by([&] { (void)m.try_lock_for(std::chrono::milliseconds(1)); }),
            EDEADLK);
  EXPECT_EQ(m.owner(), rfutex::sys::gettid());
  m.unlock();
  EXPECT_EQ(m.owner(), 0);
}

TYPED_TEST(RobustMutex, UnlockByANonOwnerIsEpermAndChangesNothing) {
  TypeParam m;
  EXPECT_EQ(rfutex::test::errno_thrown_by([&] { m.unlock(); }), EPERM)
      << "unlocking a free mutex";
  ASSERT_EQ(m.lock(), lock_status::acquired);
  int seen = 0;
  std::thread([&] { seen = rfutex::test::errno_thrown_by([&] { m.unlock(); }); }).join();
  EXPECT_EQ(seen, EPERM);
  EXPECT_EQ(m.owner(), rfutex::sys::gettid()) << "still ours";
  m.unlock();
}

TYPED_TEST(RobustMutex, MakeConsistentNeedsOwnershipAndAnInconsistentMutex) {
  TypeParam m;
  EXPECT_EQ(rfutex::test::errno_thrown_by([&] { m.make_consistent(); }), EPERM);
  ASSERT_EQ(m.lock(), lock_status::acquired);
  EXPECT_EQ(rfutex::test::errno_thrown_by([&] { m.make_consistent(); }), EINVAL);
  EXPECT_TRUE(m.consistent());
  m.unlock();
}

TYPED_TEST(RobustMutex, WorksWithStandardLockAdaptors) {
  TypeParam a, b;
  {
    std::scoped_lock both(a, b);
    EXPECT_NE(a.owner(), 0);
    EXPECT_NE(b.owner(), 0);
  }
  EXPECT_EQ(a.owner(), 0);
  EXPECT_EQ(b.owner(), 0);
  {
    std::unique_lock<TypeParam> l(a, std::try_to_lock);
    EXPECT_TRUE(l.owns_lock());
    l.unlock();
    EXPECT_TRUE(l.try_lock_for(std::chrono::milliseconds(1)));
  }
  EXPECT_EQ(a.owner(), 0);
  {
    std::unique_lock<TypeParam> l(a, std::defer_lock);
    EXPECT_EQ(std::try_lock(l, b), -1) << "-1: both acquired";
    b.unlock();
  }
}

// N threads of one process increment a counter under the mutex: the count is
// exact, so no two threads ever held it at once and no wake-up was lost (a
// lost wake-up hangs the test).
TYPED_TEST(RobustMutex, ThreadsContendingGetMutualExclusion) {
  TypeParam m;
  long counter = 0;
  constexpr int threads = 4, rounds = 20000;
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&] {
      for (int i = 0; i < rounds; ++i) {
        std::lock_guard<TypeParam> g(m);
        ++counter;
      }
    });
  for (auto& th : pool) th.join();
  EXPECT_EQ(counter, long{threads} * rounds);
  EXPECT_EQ(m.owner(), 0);
}

}  // namespace
