// SPDX-License-Identifier: MIT
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

// Several other threads, each parked with a stale pointer into the range,
// are all scrubbed by this one — whichever order they registered in, and
// also after one in the middle has left (its place is taken by another).
TEST(Scrub, ReachesEveryThreadThatUsedRfutex) {
  page pg;
  constexpr int n = 5;
  rfutex::test::event parked[n], done[n];
  robust_list_head* heads[n] = {};
  std::vector<std::thread> others;
  for (int i = 0; i < n; ++i)
    others.emplace_back([&, i] {
      heads[i] = own_head();
      leave_stale_pending(heads[i], pg.at(512 + 64 * static_cast<std::size_t>(i)));
      parked[i].set();
      done[i].wait();
    });
  for (auto& e : parked) e.wait();
  EXPECT_EQ(rfutex::scrub_pending(pg.p, 4096), std::size_t{n});
  for (int i = 0; i < n; ++i) EXPECT_EQ(pending_of(heads[i]), nullptr) << "thread " << i;

  done[1].set();  // one leaves; the others are scrubbed again
  others[1].join();
  for (int i = 0; i < n; ++i) {
    if (i != 1) leave_stale_pending(heads[i], pg.at(1024 + 64 * static_cast<std::size_t>(i)));
  }
  EXPECT_EQ(rfutex::scrub_pending(pg.p, 4096), std::size_t{n - 1});
  for (int i = 0; i < n; ++i) {
    if (i == 1) continue;
    EXPECT_EQ(pending_of(heads[i]), nullptr) << "thread " << i << " after one left";
  }
  for (int i = 0; i < n; ++i) {
    if (i == 1) continue;
    done[i].set();
    others[static_cast<std::size_t>(i)].join();
  }
}

// More threads than the registry holds without allocating: every one is
// registered, scrubbed, and leaves again.
TEST(Scrub, HoldsManyThreads) {
  (void)own_head();
  const std::size_t before = rfutex::guarded_thread_count();
  page pg;
  constexpr int n = 300;
  std::atomic<int> parked{0};
  rfutex::test::event done;
  std::vector<robust_list_head*> heads(n);
  std::vector<std::thread> others;
  for (int i = 0; i < n; ++i)
    others.emplace_back([&, i] {
      heads[static_cast<std::size_t>(i)] = own_head();
      leave_stale_pending(heads[static_cast<std::size_t>(i)], pg.at(static_cast<std::size_t>(i) * 8));
      if (++parked == n) parked.notify_all();
      done.wait();
    });
  for (int p = parked.load(); p != n; p = parked.load()) parked.wait(p);
  EXPECT_EQ(rfutex::guarded_thread_count(), before + n);
  EXPECT_EQ(rfutex::scrub_pending(pg.p, 4096), std::size_t{n});
  int stale = 0;
  for (auto* h : heads) stale += pending_of(h) != nullptr;
  EXPECT_EQ(stale, 0);
  done.set();
  for (auto& t : others) t.join();
  EXPECT_EQ(rfutex::guarded_thread_count(), before);
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
  leave_stale_pending(head, static_cast<char*>(p) + 4096 + 100);
  void* r = rfutex::remap(p, 8192, 4096, 0);
  EXPECT_EQ(r, p);
  EXPECT_EQ(pending_of(head), nullptr);
  leave_stale_pending(head, static_cast<char*>(p) + 4000);
  rfutex::unmap(p, 4096);
  EXPECT_EQ(pending_of(head), nullptr);
}

// mremap scrubs what goes away, and only that: a pending pointer into a page
// that stays mapped must survive (the kernel still needs it if its thread
// dies before waking the lock's sleepers).
struct pages {
  std::size_t page = static_cast<std::size_t>(::getpagesize());
  char* p;
  std::size_t length;
  explicit pages(std::size_t n) : length(n * page) {
    p = static_cast<char*>(::mmap(nullptr, length, PROT_READ | PROT_WRITE,
                                  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  }
  ~pages() { ::munmap(p, length); }
};

TEST(GuardedRemap, AShrinkInPlaceClearsOnlyTheRemovedTail) {
  robust_list_head* head = own_head();
  pages m(3);
  leave_stale_pending(head, m.p + 64);  // page 0 stays
  ASSERT_EQ(rfutex::remap(m.p, 3 * m.page, 2 * m.page, 0), m.p);
  EXPECT_NE(pending_of(head), nullptr) << "a pointer into a page that stays was cleared";
  leave_stale_pending(head, m.p + m.page + 64);  // page 1 goes
  ASSERT_EQ(rfutex::remap(m.p, 2 * m.page, m.page, MREMAP_MAYMOVE), m.p);
  EXPECT_EQ(pending_of(head), nullptr) << "a pointer into the removed tail stayed";
  leave_stale_pending(head, m.p + m.page - 4);  // the last word of the page that stays
  ASSERT_EQ(rfutex::remap(m.p, m.page, 100, 0), m.p) << "rounded up to the page: nothing goes";
  EXPECT_NE(pending_of(head), nullptr);
  head->list_op_pending = nullptr;
}

TEST(GuardedRemap, AGrowthInPlaceClearsNothing) {
  robust_list_head* head = own_head();
  pages m(3);
  ASSERT_EQ(::munmap(m.p + m.page, 2 * m.page), 0);  // room to grow into
  leave_stale_pending(head, m.p + 64);
  ASSERT_EQ(rfutex::remap(m.p, m.page, 2 * m.page, 0), m.p);
  EXPECT_NE(pending_of(head), nullptr);
  ASSERT_EQ(rfutex::remap(m.p, 2 * m.page, 3 * m.page, MREMAP_MAYMOVE), m.p)
      << "MREMAP_MAYMOVE, but there was room: it grew in place";
  EXPECT_NE(pending_of(head), nullptr);
  head->list_op_pending = nullptr;
}

TEST(GuardedRemap, AMoveClearsTheWholeOldRange) {
  robust_list_head* head = own_head();
  pages m(2);  // page 1 is mapped: page 0 cannot grow in place
  leave_stale_pending(head, m.p + 64);
  void* moved = rfutex::remap(m.p, m.page, 2 * m.page, MREMAP_MAYMOVE);
  EXPECT_NE(moved, m.p);
  EXPECT_EQ(pending_of(head), nullptr);
  ::munmap(moved, 2 * m.page);
  ::mmap(m.p, m.page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);  // for ~pages
}

TEST(GuardedRemap, MremapFixedClearsTheTargetRange) {
  robust_list_head* head = own_head();
  pages source(1), target(2);
  leave_stale_pending(head, target.p + target.page + 64);  // what the move replaces
  ASSERT_EQ(rfutex::remap(source.p, source.page, 2 * source.page, MREMAP_MAYMOVE | MREMAP_FIXED,
                          target.p),
            target.p);
  EXPECT_EQ(pending_of(head), nullptr);
  leave_stale_pending(head, target.p + 64);  // and the old range of a fixed move
  ASSERT_EQ(rfutex::remap(target.p, target.page, target.page, MREMAP_MAYMOVE | MREMAP_FIXED,
                          target.p + target.page),
            target.p + target.page);
  EXPECT_EQ(pending_of(head), nullptr);
  ::mmap(source.p, source.page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
  ::mmap(target.p, target.page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
}

// A fork child knows the thread that forked from its first instruction: it
// unmaps, before any rfutex call, memory its own thread's pending slot points
// into, and the guard clears the slot.
TEST(GuardInAForkChild, TheForkingThreadIsGuardedBeforeItsFirstRfutexCall) {
  (void)own_head();
  page pg;
  rfutex::test::shared<int> outcome(-1);
  auto child = rfutex::test::child_process::fork([&] {
    robust_list_head* head = nullptr;
    std::size_t len = 0;
    rfutex::sys::get_robust_list(0, &head, &len);  // the kernel, not rfutex
    const std::size_t known = rfutex::guarded_thread_count();
    leave_stale_pending(head, pg.at(128));
    rfutex::unmap(pg.p, 4096);
    pg.p = nullptr;
    *outcome = pending_of(head) == nullptr ? 0 : 1;
    return known == 1 ? 0 : 10 + static_cast<int>(known);
  });
  const int status = child.wait();
  EXPECT_TRUE(rfutex::test::exited_with(status, 0))
      << rfutex::test::describe_status(status) << " (10 + the threads the child's guard knew)";
  EXPECT_EQ(*outcome, 0) << "the child's own stale pointer survived its unmap";
}

// The kernel unmaps and replaces whole pages: a length that ends inside a
// page covers all of it, and so does the scrub.
TEST(GuardedCalls, ALengthInsideAPageCoversTheWholePage) {
  robust_list_head* head = own_head();
  pages m(2);
  leave_stale_pending(head, m.p + m.page + 200);
  (void)rfutex::map_fixed(m.p + m.page, 100, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  EXPECT_EQ(pending_of(head), nullptr) << "map_fixed of 100 bytes";
  leave_stale_pending(head, m.p + 200);
  rfutex::unmap(m.p, 100);
  EXPECT_EQ(pending_of(head), nullptr) << "unmap of 100 bytes";
  ::mmap(m.p, m.page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);  // for ~pages
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
