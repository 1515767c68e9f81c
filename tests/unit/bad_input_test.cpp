// SPDX-License-Identifier: MIT
// Bytes that are not a usable rfutex lock, and misuse a new user tries:
// each gives its documented error (docs/errors.md), never a hang, a crash or
// a silent success. Potential hangs are bounded by alarm().
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/mman.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <string>
#include <system_error>
#include <thread>

#include "sanitizer_build.hpp"
#include "errors.hpp"
#include "linux/robust_list.hpp"
#include "mutex_types.hpp"
#include "process.hpp"
#include "rfutex/robust_condition_variable.hpp"
#include "rfutex/shared_region.hpp"
#include "strategy_fixture.hpp"

namespace {

using namespace std::chrono_literals;
using rfutex::lock_status;
using rfutex::try_status;

// The errno and message of the std::system_error `f` throws.
struct thrown {
  int error = 0;
  std::string what;
};

template <class F>
thrown thrown_by(F&& f) {
  try {
    f();
  } catch (const std::system_error& e) {
    return {e.code().value(), e.what()};
  }
  return {};
}

bool says(const thrown& t, const char* words) { return t.what.find(words) != std::string::npos; }

// 40 bytes of lock at `offset` in an 8-aligned buffer of the given fill.
template <class M>
struct raw_lock {
  alignas(8) unsigned char bytes[64];
  explicit raw_lock(unsigned char fill) { std::memset(bytes, fill, sizeof bytes); }
  M& at(std::size_t offset) { return *reinterpret_cast<M*>(bytes + offset); }
};

template <class M>
class BadInput : public rfutex::test::strategy_test {
 protected:
  void SetUp() override {
    strategy_test::SetUp();
    alarm(60);  // a regression that hangs fails here instead
  }
  void TearDown() override { alarm(0); }
};
TYPED_TEST_SUITE(BadInput, rfutex::test::robust_mutex_types, rfutex::test::mutex_type_names);

TYPED_TEST(BadInput, MisalignedLockIsEinvalUpFront) {
#if defined(RFUTEX_TEST_ASAN)
  GTEST_SKIP() << "UBSan (built with ASan here) stops at the misaligned reference this test makes on purpose";
#endif
  for (std::size_t offset : {std::size_t{1}, std::size_t{2}, std::size_t{4}}) {
    raw_lock<TypeParam> raw(0);
    auto& m = raw.at(offset);
    for (auto t : {thrown_by([&] { (void)m.lock(); }), thrown_by([&] { (void)m.try_lock(); }),
                   thrown_by([&] { (void)m.try_lock_for(1ms); }), thrown_by([&] { m.unlock(); }),
                   thrown_by([&] { m.make_consistent(); })}) {
      EXPECT_EQ(t.error, EINVAL) << "offset " << offset << ": " << t.what;
      EXPECT_TRUE(says(t, "misaligned")) << t.what;
    }
    EXPECT_EQ(m.owner(), 0) << "nothing was taken at offset " << offset;
  }
}

TEST(SharedRegion, ConstructAtAMisalignedOffsetSaysMisaligned) {
  auto region = rfutex::shared_region::create_memfd(4096);
  const auto t = thrown_by([&] { (void)region.construct<rfutex::robust_mutex>(4); });
  EXPECT_EQ(t.error, EINVAL);
  EXPECT_TRUE(says(t, "misaligned")) << t.what;
  const auto past = thrown_by([&] { (void)region.construct<rfutex::robust_mutex>(4096); });
  EXPECT_EQ(past.error, EINVAL);
  EXPECT_TRUE(says(past, "does not fit")) << past.what;
}

TYPED_TEST(BadInput, FilledWithOnesIsEinvalNotAHang) {
  raw_lock<TypeParam> raw(0xff);
  auto& m = raw.at(0);
  for (auto t : {thrown_by([&] { (void)m.lock(); }), thrown_by([&] { (void)m.try_lock(); }),
                 thrown_by([&] { (void)m.try_lock_for(1ms); }), thrown_by([&] { m.unlock(); })}) {
    EXPECT_EQ(t.error, EINVAL) << t.what;
    EXPECT_TRUE(says(t, "not an rfutex lock")) << t.what;
  }
}

// A free word beside a state no lock has: the fast path may take the word;
// the lock must still refuse, and let go.
TYPED_TEST(BadInput, StateOutsideItsValuesIsEinval) {
  for (std::uint32_t state : {3u, 0x100u, 0xffffffffu}) {
    raw_lock<TypeParam> raw(0);
    std::memcpy(raw.bytes + 4, &state, 4);
    auto& m = raw.at(0);
    for (auto t : {thrown_by([&] { (void)m.lock(); }), thrown_by([&] { (void)m.try_lock(); }),
                   thrown_by([&] { (void)m.try_lock_for(1ms); })}) {
      EXPECT_EQ(t.error, EINVAL) << "state " << state << ": " << t.what;
      EXPECT_TRUE(says(t, "not an rfutex lock")) << t.what;
    }
    EXPECT_EQ(m.owner(), 0) << "let go after refusing, state " << state;
  }
}

// A held word whose TID no thread can have (above PID_MAX_LIMIT).
TYPED_TEST(BadInput, OwnerThatNoThreadCanBeIsEinval) {
  raw_lock<TypeParam> raw(0);
  const std::uint32_t word = 0x3ffffff0u;
  std::memcpy(raw.bytes, &word, 4);
  auto& m = raw.at(0);
  for (auto t : {thrown_by([&] { (void)m.lock(); }), thrown_by([&] { (void)m.try_lock_for(1ms); })}) {
    EXPECT_EQ(t.error, EINVAL) << t.what;
    EXPECT_TRUE(says(t, "not an rfutex lock")) << t.what;
  }
}

TYPED_TEST(BadInput, DestroyedLockIsEinvalAndZeroBytesAreFreshAgain) {
  raw_lock<TypeParam> raw(0);
  auto* m = ::new (raw.bytes) TypeParam;
  ASSERT_EQ(m->lock(), lock_status::acquired);
  m->unlock();
  m->~TypeParam();
  for (auto t : {thrown_by([&] { (void)m->lock(); }), thrown_by([&] { (void)m->try_lock(); }),
                 thrown_by([&] { (void)m->try_lock_for(1ms); }), thrown_by([&] { m->unlock(); })}) {
    EXPECT_EQ(t.error, EINVAL) << t.what;
    EXPECT_TRUE(says(t, "destroyed")) << t.what;
  }
  std::memset(raw.bytes, 0, 40);
  EXPECT_EQ(m->lock(), lock_status::acquired) << "zero bytes are a fresh lock";
  m->unlock();
  m = ::new (raw.bytes) TypeParam;  // so is a lock constructed there again
  EXPECT_EQ(m->lock(), lock_status::acquired);
  m->unlock();
}

TYPED_TEST(BadInput, NotRecoverableNamesTheCause) {
  rfutex::test::shared<TypeParam> m;
  auto child = rfutex::test::child_process::fork([&] {
    (void)m->lock();
    return 0;  // exits holding it
  });
  ASSERT_TRUE(rfutex::test::exited_with(child.wait(), 0));
  ASSERT_EQ(m->lock(), lock_status::owner_died);
  m->unlock();  // without make_consistent()
  for (auto t : {thrown_by([&] { (void)m->lock(); }), thrown_by([&] { (void)m->try_lock(); })}) {
    EXPECT_EQ(t.error, ENOTRECOVERABLE);
    EXPECT_TRUE(says(t, "unlocked it after an owner death without calling make_consistent()"))
        << t.what;
  }
}

TYPED_TEST(BadInput, WaitWithoutHoldingTheMutexNamesTheConditionVariable) {
  TypeParam m;
  rfutex::robust_condition_variable cv;
  for (auto t : {thrown_by([&] { (void)cv.wait(m); }),
                 thrown_by([&] { (void)cv.wait_for(m, 1ms); })}) {
    EXPECT_EQ(t.error, EPERM);
    EXPECT_TRUE(says(t, "robust_condition_variable::wait")) << t.what;
    EXPECT_FALSE(says(t, "::unlock")) << t.what;
  }
  EXPECT_EQ(m.owner(), 0);
}

// Bytes copied while held name a holder that is gone: documented behaviour
// per lock kind, and owner_alive() tells the caller.
TYPED_TEST(BadInput, LockWordCopiedWhileHeld) {
  TypeParam original;
  alignas(8) unsigned char copy[sizeof(TypeParam)];
  pid_t holder = 0;
  std::thread([&] {
    (void)original.lock();
    holder = rfutex::sys::gettid();
    std::memcpy(copy, static_cast<void*>(&original), sizeof copy);
    EXPECT_TRUE(original.owner_alive());
    original.unlock();
  }).join();
  // join() returns when the thread's TID is cleared, a little before the
  // kernel lets the task go; owner_alive() asks the kernel.
  const std::string task = "/proc/self/task/" + std::to_string(holder);
  while (::access(task.c_str(), F_OK) == 0) sched_yield();
  auto& m = *reinterpret_cast<TypeParam*>(copy);
  EXPECT_EQ(m.owner(), holder);
  EXPECT_FALSE(m.owner_alive()) << "the holder thread has exited";
  EXPECT_FALSE(original.owner_alive()) << "a free mutex has no live owner";
  EXPECT_EQ(m.try_lock().status(), try_status::busy);
  EXPECT_EQ(m.try_lock_for(1ms).status(), try_status::timed_out);
  EXPECT_EQ(m.try_lock_until(std::chrono::steady_clock::now() - 1s).status(), try_status::timed_out);
  if constexpr (rfutex::test::is_pi<TypeParam>) {
    const auto t = thrown_by([&] { (void)m.lock(); });
    EXPECT_EQ(t.error, ESRCH);
    EXPECT_TRUE(says(t, "copied while held")) << t.what;
  }
  EXPECT_EQ(m.owner(), holder) << "nothing changed";
}

TYPED_TEST(BadInput, OwnerAliveWhileAnotherThreadHoldsIt) {
  TypeParam m;
  ASSERT_EQ(m.lock(), lock_status::acquired);
  EXPECT_TRUE(m.owner_alive());
  bool seen = false;
  std::thread([&] { seen = m.owner_alive(); }).join();
  EXPECT_TRUE(seen);
  m.unlock();
  EXPECT_FALSE(m.owner_alive());
}

// Read-only memory is not refused: the first store faults, as with
// pthread_mutex_lock (documented in robust_mutex.hpp and docs/errors.md).
TYPED_TEST(BadInput, ReadOnlyMemoryFaults) {
#if defined(RFUTEX_TEST_ASAN) || defined(RFUTEX_TEST_TSAN)
  GTEST_SKIP() << "the sanitizer turns the expected SIGSEGV into its own report and exit";
#endif
  void* p = mmap(nullptr, 4096, PROT_READ, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(p, MAP_FAILED);
  auto child = rfutex::test::child_process::fork([&] {
    (void)static_cast<TypeParam*>(p)->lock();
    return 0;
  });
  const int status = child.wait();
  EXPECT_TRUE(rfutex::test::killed_by(status, SIGSEGV)) << rfutex::test::describe_status(status);
  munmap(p, 4096);
}

}  // namespace
