// SIGKILL at every single instruction of a real lock() and unlock(): whatever
// the instant of death, the mutex is never lost — the next locker gets it,
// with owner_died exactly when the dead thread had already taken it.
//
// The child is stopped with ptrace and single-stepped; nothing in the library
// is instrumented, so the code that dies is the code that ships.
#include <gtest/gtest.h>
#include <signal.h>

#include <cstdint>

#include "linux/futex.hpp"
#include "linux/robust_list.hpp"
#include "process.hpp"
#include "ptrace_stepper.hpp"
#include "rfutex/capabilities.hpp"
#include "rfutex/robust_mutex.hpp"
#include "strategy_fixture.hpp"

namespace {

using rfutex::lock_status;
using rfutex::robust_mutex;
using rfutex::try_status;
using rfutex::test::shared;
using rfutex::test::stepped_child;

class KillPoints : public rfutex::test::strategy_test {};

struct arena {
  robust_mutex m;
  robust_mutex warm_up;
  std::uintptr_t head = 0;  // the child's robust-list head
  std::uint32_t tid = 0;
};

// The child's first lock initialises rfutex's per-thread state (syscalls and
// all); do that before the traced part so only the operation is stepped.
void prepare_child(arena& a) {
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

snapshot look(const stepped_child& c, arena& a) {
  const auto head = a.head;
  return {std::atomic_ref<std::uint32_t>(*reinterpret_cast<std::uint32_t*>(&a.m))
              .load(std::memory_order_acquire),
          c.peek(head + offsetof(rfutex::sys::robust_list_head, list_op_pending)) & ~std::uintptr_t{1},
          c.peek(head) & ~std::uintptr_t{1}};
}

// Takes the mutex after the child died; reports how.
try_status recover(robust_mutex& m) {
  auto r = m.try_lock();
  if (r.owner_died()) m.make_consistent();
  if (r) m.unlock();
  return r.status();
}

// Counts the single steps `traced` takes in a child prepared by `setup`.
long count_steps(const std::function<void(arena&)>& setup, const std::function<void(arena&)>& traced) {
  shared<arena> a;
  stepped_child c([&] { setup(*a); }, [&] { traced(*a); });
  while (c.step()) {
  }
  return c.steps();
}

TEST_F(KillPoints, DeathAtAnyInstructionOfLockNeverLosesTheMutex) {
  auto setup = [](arena& a) { prepare_child(a); };
  auto traced = [](arena& a) { (void)a.m.lock(); };
  const long n = count_steps(setup, traced);
  ASSERT_GT(n, 5);
  int free_seen = 0, died_seen = 0;
  for (long k = 0; k <= n; ++k) {
    shared<arena> a;
    stepped_child c([&] { setup(*a); }, [&] { traced(*a); });
    for (long i = 0; i < k && c.step(); ++i) {
    }
    c.kill();
    const try_status s = recover(a->m);
    ASSERT_TRUE(s == try_status::acquired || s == try_status::owner_died)
        << "killed after " << k << " of " << n << " instructions: the mutex was lost";
    (s == try_status::acquired ? free_seen : died_seen)++;
  }
  EXPECT_GT(free_seen, 0) << "some kills came before the acquisition";
  EXPECT_GT(died_seen, 0) << "some kills came after it";
}

TEST_F(KillPoints, DeathAtAnyInstructionOfUnlockNeverLosesTheMutex) {
  auto setup = [](arena& a) {
    prepare_child(a);
    (void)a.m.lock();
  };
  auto traced = [](arena& a) { a.m.unlock(); };
  const long n = count_steps(setup, traced);
  ASSERT_GT(n, 5);
  int free_seen = 0, died_seen = 0;
  for (long k = 0; k <= n; ++k) {
    shared<arena> a;
    stepped_child c([&] { setup(*a); }, [&] { traced(*a); });
    for (long i = 0; i < k && c.step(); ++i) {
    }
    c.kill();
    const try_status s = recover(a->m);
    ASSERT_TRUE(s == try_status::acquired || s == try_status::owner_died)
        << "killed after " << k << " of " << n << " instructions: the mutex was lost";
    (s == try_status::acquired ? free_seen : died_seen)++;
  }
  EXPECT_GT(free_seen, 0);
  EXPECT_GT(died_seen, 0);
}

// The lock path's own window: the word already holds the child's TID but the
// node is not linked yet. Only list_op_pending tells the kernel; killing
// exactly there must still hand the mutex over as owner_died.
TEST_F(KillPoints, DeathAfterTakingTheWordBeforeLinkingIsRecovered) {
  shared<arena> a;
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
