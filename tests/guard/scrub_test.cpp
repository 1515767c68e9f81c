// The unmap guard clears stale list_op_pending pointers into a range — of
// every thread that used rfutex — and nothing else.
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/shm.h>

#include <atomic>
#include <cstring>
#include <functional>
#include <memory>
#include <system_error>
#include <thread>
#include <vector>

#include "linux/robust_list.hpp"
#include "errors.hpp"
#include "process.hpp"
#include "rfutex/capabilities.hpp"
#include "rfutex/robust_mutex.hpp"
#include "rfutex/unmap.hpp"

namespace {

using rfutex::sys::robust_list;
using rfutex::sys::robust_list_head;

robust_list_head* own_head() {
  (void)rfutex::current_robust_list();  // registers this thread with the guard
  robust_list_head* head = nullptr;
  std::size_t len = 0;
  rfutex::sys::get_robust_list(0, &head, &len);
  return head;
}

// Makes the calling thread's list_op_pending point at the lock whose word is
// at `word` — the state a thread dying between release and clear leaves.
// Atomic, as rfutex's own stores are: the guard reads the slot from other threads.
void leave_stale_pending(robust_list_head* head, const void* word) {
  __atomic_store_n(&head->list_op_pending,
                   reinterpret_cast<robust_list*>(reinterpret_cast<std::uintptr_t>(word) -
                                                  static_cast<std::uintptr_t>(head->futex_offset)),
                   __ATOMIC_RELAXED);
}

robust_list* pending_of(robust_list_head* head) {
  return __atomic_load_n(&head->list_op_pending, __ATOMIC_RELAXED);
}

struct page {
  void* p = ::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ~page() {
    if (p != nullptr) ::munmap(p, 4096);
  }
  char* at(std::size_t o) const { return static_cast<char*>(p) + o; }
};

TEST(Scrub, ClearsAPendingPointerIntoTheRange) {
  page pg;
  robust_list_head* head = own_head();
  leave_stale_pending(head, pg.at(128));
  EXPECT_EQ(rfutex::scrub_pending(pg.p, 4096), 1u);
  EXPECT_EQ(pending_of(head), nullptr);
}

TEST(Scrub, LeavesPointersOutsideTheRangeAlone) {
  page pg;
  robust_list_head* head = own_head();
  for (std::size_t word : {std::size_t{0}, std::size_t{60}, std::size_t{200}}) {
    leave_stale_pending(head, pg.at(word));
    // the range [64, 200): a word at 60 ends at 64, a word at 200 starts at its end
    EXPECT_EQ(rfutex::scrub_pending(pg.at(64), 136), 0u) << "word at +" << word;
    EXPECT_NE(pending_of(head), nullptr) << "word at +" << word;
  }
  leave_stale_pending(head, pg.at(62));  // straddles the start: bytes 62..65
  EXPECT_EQ(rfutex::scrub_pending(pg.at(64), 136), 1u);
  head->list_op_pending = nullptr;
}

TEST(Scrub, HandlesPiTaggedPointers) {
  page pg;
  robust_list_head* head = own_head();
  leave_stale_pending(head, pg.at(256));
  head->list_op_pending = reinterpret_cast<robust_list*>(
      reinterpret_cast<std::uintptr_t>(head->list_op_pending) | rfutex::sys::robust_entry_pi);
  EXPECT_EQ(rfutex::scrub_pending(pg.p, 4096), 1u);
  EXPECT_EQ(pending_of(head), nullptr);
}

// Another thread, parked with a stale pointer, is scrubbed by this one.
TEST(Scrub, ReachesEveryThreadThatUsedRfutex) {
  page pg;
  rfutex::test::event parked, done;
  robust_list_head* other_head = nullptr;
  std::thread other([&] {
    other_head = own_head();
    leave_stale_pending(other_head, pg.at(512));
    parked.set();
    done.wait();
  });
  parked.wait();
  EXPECT_EQ(rfutex::scrub_pending(pg.p, 4096), 1u);
  EXPECT_EQ(__atomic_load_n(&other_head->list_op_pending, __ATOMIC_RELAXED), nullptr);
  done.set();
  other.join();
}

TEST(Scrub, ThreadsLeaveTheRegistryWhenTheyExit) {
  (void)own_head();
  const std::size_t before = rfutex::guarded_thread_count();
  rfutex::test::event parked, done;
  std::size_t during = 0;
  std::thread other([&] {
    (void)own_head();
    parked.set();
    done.wait();
  });
  parked.wait();
  during = rfutex::guarded_thread_count();
  done.set();
  other.join();
  EXPECT_EQ(during, before + 1);
  EXPECT_EQ(rfutex::guarded_thread_count(), before);
}

// Scrubs from many threads while threads come and go: completes (a deadlock
// would hang until CTest's timeout) and clears each thread's own stale slot.
TEST(Scrub, NeverDeadlocksUnderChurn) {
  page pg;
  std::atomic<int> cleared{0};
  std::vector<std::thread> pool;
  for (int t = 0; t < 8; ++t)
    pool.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        std::thread([&, t] {
          robust_list_head* head = own_head();
          leave_stale_pending(head, pg.at(static_cast<std::size_t>(t) * 64));
          if (rfutex::scrub_pending(pg.at(static_cast<std::size_t>(t) * 64), 4) >= 1 &&
              pending_of(head) == nullptr)
            ++cleared;
        }).join();
      }
    });
  for (auto& th : pool) th.join();
  EXPECT_EQ(cleared.load(), 8 * 200);
}

TEST(Scrub, DestroyingAMutexScrubsItsBytes) {
  robust_list_head* head = own_head();
  alignas(rfutex::robust_mutex) unsigned char bytes[sizeof(rfutex::robust_mutex)];
  auto* m = new (bytes) rfutex::robust_mutex;
  leave_stale_pending(head, bytes);
  std::destroy_at(m);
  EXPECT_EQ(pending_of(head), nullptr);
}

TEST(GuardedCalls, ScrubThenDoWhatLibcDoes) {
  robust_list_head* head = own_head();
  void* p = ::mmap(nullptr, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(p, MAP_FAILED);
  leave_stale_pending(head, p);
  void* q = rfutex::map_fixed(p, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  EXPECT_EQ(q, p);
  EXPECT_EQ(pending_of(head), nullptr);
  leave_stale_pending(head, static_cast<char*>(p) + 100);
  void* r = rfutex::remap(p, 8192, 4096, 0);
  EXPECT_EQ(r, p);
  EXPECT_EQ(pending_of(head), nullptr);
  leave_stale_pending(head, static_cast<char*>(p) + 4000);
  rfutex::unmap(p, 4096);
  EXPECT_EQ(pending_of(head), nullptr);
}

TEST(GuardedCalls, ReportErrorsWithTheErrno) {
  EXPECT_EQ(rfutex::test::errno_thrown_by([] { rfutex::unmap(reinterpret_cast<void*>(1), 4096); }), EINVAL);
  EXPECT_EQ(rfutex::test::errno_thrown_by([] { (void)rfutex::remap(reinterpret_cast<void*>(4096), 4096, 8192, 0); }),
            EFAULT);
  int x = 0;
  EXPECT_EQ(rfutex::test::errno_thrown_by([&] { rfutex::detach_shm(&x); }), EINVAL);
}

TEST(GuardedCalls, DetachShmScrubsTheWholeSegment) {
  const int id = ::shmget(IPC_PRIVATE, 8192, IPC_CREAT | 0600);
  if (id < 0) GTEST_SKIP() << "System V shared memory unavailable: " << std::strerror(errno);
  void* p = ::shmat(id, nullptr, 0);
  ::shmctl(id, IPC_RMID, nullptr);
  ASSERT_NE(p, reinterpret_cast<void*>(-1));
  robust_list_head* head = own_head();
  leave_stale_pending(head, static_cast<char*>(p) + 6000);
  rfutex::detach_shm(p);
  EXPECT_EQ(pending_of(head), nullptr);
}

}  // namespace
