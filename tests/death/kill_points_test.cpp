// SPDX-License-Identifier: MIT
// SIGKILL at every single instruction of a real lock() and unlock(): whatever
// the instant of death, the mutex is never lost — the next locker gets it,
// with owner_died exactly when the dead thread had already taken it.
//
// The child is stopped with ptrace and single-stepped; nothing in the library
// is instrumented, so the code that dies is the code that ships.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "linux/futex.hpp"
#include "linux/robust_list.hpp"
#include "process.hpp"
#include "ptrace_stepper.hpp"
#include "rfutex/capabilities.hpp"
#include "rfutex/robust_mutex.hpp"
#include "mutex_types.hpp"
#include "strategy_fixture.hpp"

namespace {

using rfutex::lock_status;
using rfutex::try_status;
using rfutex::test::shared;
using rfutex::test::stepped_child;

RFUTEX_MUTEX_TYPED_SUITE(KillPoints);

template <class M>
struct arena {
  M m;
  M warm_up;
  std::uintptr_t head = 0;  // the child's robust-list head
  std::uint32_t tid = 0;
};

// The child's first lock initialises rfutex's per-thread state (syscalls and
// all); do that before the traced part so only the operation is stepped.
template <class M>
void prepare_child(arena<M>& a) {
  (void)a.warm_up.lock();
  a.warm_up.unlock();
  a.head = reinterpret_cast<std::uintptr_t>(rfutex::current_robust_list().head);
  a.tid = static_cast<std::uint32_t>(rfutex::sys::gettid());
}

// What the child's memory looks like at one instant.
struct snapshot {
  std::uint32_t word;
  std::uintptr_t pending;  // list_op_pending, untagged
  std::uintptr_t first;    // head->list.next, untagged
};

template <class M>
snapshot look(const stepped_child& c, arena<M>& a) {
  const auto head = a.head;
  return {std::atomic_ref<std::uint32_t>(*reinterpret_cast<std::uint32_t*>(&a.m))
              .load(std::memory_order_acquire),
          c.peek(head + offsetof(rfutex::sys::robust_list_head, list_op_pending)) & ~std::uintptr_t{1},
          c.peek(head) & ~std::uintptr_t{1}};
}

// Takes the mutex after the child died; reports how.
template <class M>
try_status recover(M& m) {
  auto r = m.try_lock();
  if (r.owner_died()) m.make_consistent();
  if (r) m.unlock();
  return r.status();
}

// Everything the kernel reads when the child dies: the word, list_op_pending
// and the chain of entries from the head. Two instants with equal views are
// indistinguishable to the kernel's exit processing.
template <class M>
std::vector<std::uintptr_t> kernel_visible(const stepped_child& c, arena<M>& a) {
  std::vector<std::uintptr_t> v{std::atomic_ref<std::uint32_t>(*reinterpret_cast<std::uint32_t*>(&a.m))
                                    .load(std::memory_order_acquire),
                                c.peek(a.head + offsetof(rfutex::sys::robust_list_head, list_op_pending))};
  std::uintptr_t entry = c.peek(a.head);
  for (int i = 0; i < 8 && (entry & ~std::uintptr_t{1}) != a.head; ++i) {
    v.push_back(entry);
    entry = c.peek(entry & ~std::uintptr_t{1});
  }
  return v;
}

// The instants to kill the child at, counted in single steps from the start
// of `traced`: every instruction when the single-step budget allows it
// (kill_instants: release builds), else an even sample of them (slow,
// instrumented sanitizer builds); and always the first instruction of every
// distinct kernel-visible state, which covers every outcome the kernel can
// produce.
template <class M>
std::vector<long> kill_points(const std::function<void(arena<M>&)>& setup,
                              const std::function<void(arena<M>&)>& traced) {
  shared<arena<M>> a;
  stepped_child c([&] { setup(*a); }, [&] { traced(*a); });
  std::vector<long> distinct{0};
  auto last = kernel_visible(c, *a);
  long k = 1;
  for (; c.step(); ++k) {
    auto now = kernel_visible(c, *a);
    if (now != last) distinct.push_back(k);
    last = std::move(now);
  }
  std::vector<long> points = rfutex::test::kill_instants(k);
  points.insert(points.end(), distinct.begin(), distinct.end());
  std::sort(points.begin(), points.end());
  points.erase(std::unique(points.begin(), points.end()), points.end());
  return points;
}

// Kills a fresh child after each of `points` steps and checks the mutex is
// recoverable; both outcomes (free / owner_died) must occur.
template <class M>
void kill_at_every_point(const std::function<void(arena<M>&)>& setup,
                         const std::function<void(arena<M>&)>& traced) {
  const std::vector<long> points = kill_points<M>(setup, traced);
  ASSERT_GE(points.size(), 4u) << "too few distinct instants: the operation was not stepped";
  int free_seen = 0, died_seen = 0;
  for (long k : points) {
    shared<arena<M>> a;
    stepped_child c([&] { setup(*a); }, [&] { traced(*a); });
    for (long i = 0; i < k && c.step(); ++i) {
    }
    c.kill();
    const try_status s = recover(a->m);
    ASSERT_TRUE(s == try_status::acquired || s == try_status::owner_died)
        << "killed after " << k << " instructions: the mutex was lost";
    (s == try_status::acquired ? free_seen : died_seen)++;
  }
  EXPECT_GT(free_seen, 0) << "some kills came while the mutex was free";
  EXPECT_GT(died_seen, 0) << "some kills came while the child held it";
}

TYPED_TEST(KillPoints, DeathAtAnyInstructionOfLockNeverLosesTheMutex) {
  using A = arena<TypeParam>;
  kill_at_every_point<TypeParam>([](A& a) { prepare_child(a); }, [](A& a) { (void)a.m.lock(); });
}

TYPED_TEST(KillPoints, DeathAtAnyInstructionOfUnlockNeverLosesTheMutex) {
  using A = arena<TypeParam>;
  kill_at_every_point<TypeParam>(
      [](A& a) {
        prepare_child(a);
        (void)a.m.lock();
      },
      [](A& a) { a.m.unlock(); });
}

// The contended path's window: a word that is free but still carries
// FUTEX_WAITERS (a sleeper that has not retried yet, or a kernel release that
// keeps the bit) sends lock() past the fast path, so the taking, linking and
// `pending` of the slow path are what a death interrupts here.
TYPED_TEST(KillPoints, DeathAtAnyInstructionOfLockOnAFreeWordWithWaitersNeverLosesTheMutex) {
  using A = arena<TypeParam>;
  kill_at_every_point<TypeParam>(
      [](A& a) {
        prepare_child(a);
        // release: only the child and, after its death, this test touch it.
        std::atomic_ref<std::uint32_t>(*reinterpret_cast<std::uint32_t*>(&a.m))
            .store(rfutex::sys::futex_waiters, std::memory_order_release);
      },
      [](A& a) { (void)a.m.lock(); });
}

// The lock path's own window: the word already holds the child's TID but the
// node is not linked yet. Only list_op_pending tells the kernel; killing
// exactly there must still hand the mutex over as owner_died.
TYPED_TEST(KillPoints, DeathAfterTakingTheWordBeforeLinkingIsRecovered) {
  shared<arena<TypeParam>> a;
  stepped_child c([&] { prepare_child(*a); }, [&] { (void)a->m.lock(); });
  const std::uintptr_t node =
      reinterpret_cast<std::uintptr_t>(&a->m) - static_cast<std::uintptr_t>(rfutex::current_robust_list().futex_offset);
  bool in_window = false;
  while (c.step()) {
    const snapshot s = look(c, *a);
    if ((s.word & rfutex::sys::futex_tid_mask) == a->tid && s.pending == node && s.first != node) {
      in_window = true;
      break;
    }
  }
  ASSERT_TRUE(in_window) << "stepped through lock() without seeing word taken + node unlinked";
  c.kill();
  EXPECT_EQ(recover(a->m), try_status::owner_died);
}

}  // namespace
