// SPDX-License-Identifier: MIT
// shared_region maps memory that processes share and unmaps it through the
// guard.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <cstring>
#include <system_error>

#include "errors.hpp"
#include "linux/robust_list.hpp"
#include "process.hpp"
#include "rfutex/capabilities.hpp"
#include "rfutex/robust_mutex.hpp"
#include "rfutex/shared_region.hpp"

namespace {

using rfutex::lock_status;
using rfutex::robust_mutex;
using rfutex::shared_region;

TEST(SharedRegion, AMemfdRegionCarriesALockAcrossFork) {
  auto region = shared_region::create_memfd(4096);
  ASSERT_EQ(region.size(), 4096u);
  auto* m = region.construct<robust_mutex>();
  rfutex::test::event* locked = region.construct<rfutex::test::event>(64);
  auto child = rfutex::test::child_process::fork([&] {
    if (m->lock() != lock_status::acquired) return 1;
    locked->set();
    pause();
    return 0;
  });
  locked->wait();
  child.kill(SIGKILL);
  child.wait();
  ASSERT_EQ(m->lock(), lock_status::owner_died);
  m->make_consistent();
  m->unlock();
}

TEST(SharedRegion, NewMemoryIsZeroedSoLocksNeedNoConstruction) {
  auto region = shared_region::create_memfd(4096);
  const auto* bytes = static_cast<const unsigned char*>(region.data());
  for (std::size_t i = 0; i < region.size(); ++i) ASSERT_EQ(bytes[i], 0);
}

TEST(SharedRegion, AFileRegionIsSeenByASecondMapping) {
  char path[] = "/tmp/rfutex-region-XXXXXX";
  const int fd = ::mkstemp(path);
  ASSERT_GE(fd, 0);
  ::close(fd);
  {
    auto a = shared_region::open_file(path, 8192);
    auto b = shared_region::open_file(path, 8192);
    std::strcpy(static_cast<char*>(a.data()), "hello");
    EXPECT_STREQ(static_cast<const char*>(b.data()), "hello");
  }
  ::unlink(path);
}

TEST(SharedRegion, PosixShmRegion) {
  const std::string name = "/rfutex-test-" + std::to_string(::getpid());
  {
    auto a = shared_region::open_shm(name, 4096);
    auto b = shared_region::open_shm(name, 4096, false);
    static_cast<char*>(a.data())[10] = 42;
    EXPECT_EQ(static_cast<const char*>(b.data())[10], 42);
  }
  ::shm_unlink(name.c_str());
}

TEST(SharedRegion, MovingTransfersTheMappingAndUnmapEmptiesIt) {
  auto a = shared_region::create_memfd(4096);
  void* p = a.data();
  shared_region b(std::move(a));
  EXPECT_EQ(a.data(), nullptr);
  EXPECT_EQ(b.data(), p);
  b.unmap();
  EXPECT_EQ(b.data(), nullptr);
  EXPECT_EQ(b.fd(), -1);
  b.unmap();  // twice is harmless
}

// The state a thread dying between the release of a lock at `word` and the
// clear of its pending slot leaves; returns the slot.
rfutex::sys::robust_list** leave_stale_pending_at(const void* word) {
  (void)rfutex::current_robust_list();  // registers this thread with the guard
  rfutex::sys::robust_list_head* head = nullptr;
  std::size_t len = 0;
  rfutex::sys::get_robust_list(0, &head, &len);
  __atomic_store_n(&head->list_op_pending,
                   reinterpret_cast<rfutex::sys::robust_list*>(
                       reinterpret_cast<std::uintptr_t>(word) -
                       static_cast<std::uintptr_t>(head->futex_offset)),
                   __ATOMIC_RELAXED);
  return &head->list_op_pending;
}

TEST(SharedRegion, UnmapScrubsThePendingPointersIntoIt) {
  auto region = shared_region::create_memfd(8192);
  auto** slot = leave_stale_pending_at(static_cast<char*>(region.data()) + 4096 + 16);
  region.unmap();
  EXPECT_EQ(__atomic_load_n(slot, __ATOMIC_RELAXED), nullptr);
}

TEST(SharedRegion, TheDestructorScrubsThePendingPointersIntoIt) {
  rfutex::sys::robust_list** slot = nullptr;
  {
    auto region = shared_region::create_memfd(4096);
    slot = leave_stale_pending_at(static_cast<char*>(region.data()) + 256);
  }
  EXPECT_EQ(__atomic_load_n(slot, __ATOMIC_RELAXED), nullptr);
}

TEST(SharedRegion, BadRequestsAreClearErrors) {
  const auto code = rfutex::test::errno_thrown_by;
  EXPECT_EQ(code([] { (void)shared_region::create_memfd(0); }), EINVAL);
  EXPECT_EQ(code([] { (void)shared_region::open_shm("/rfutex-does-not-exist", 4096, false); }),
            ENOENT);
  EXPECT_EQ(code([] { (void)shared_region::open_file("/nonexistent-dir/x", 4096); }), ENOENT);
  auto r = shared_region::create_memfd(4096);
  EXPECT_EQ(code([&] { (void)r.construct<robust_mutex>(4096 - 8); }), EINVAL) << "does not fit";
  EXPECT_EQ(code([&] { (void)r.construct<robust_mutex>(4); }), EINVAL) << "misaligned";
}

}  // namespace
