// SPDX-License-Identifier: MIT
// No death leaves a sleeper asleep for ever on a lock nobody will release or
// wake: the liveness half of robustness, proven like the safety half — real
// lock operations stopped with ptrace at every instruction and SIGKILLed
// there, with sleepers confirmed asleep in the kernel (/proc) beforehand.
// After each kill, every surviving sleeper must acquire in turn (each locks,
// records its turn, unlocks). A sleeper stuck for good is recognised from the
// word and /proc (every survivor asleep in futex() while the word is free or
// held by nobody who could wake them), never by waiting a while; every wait
// is bounded so a regression fails in seconds.
//
// Who must wake the sleepers when the unlocker dies mid-release: before its
// release the kernel's owner-death handling (word still holds the dead TID);
// once the word is free, whoever made it free must already have woken them,
// or left the word and `pending` so that the kernel's pending-op rule does.
// When a woken waiter dies before re-acquiring: the others must not depend
// on its passing the wake-up on — on Linux 6.x the kernel passes it on only
// while the word's owner part is 0, not after a fast-path taker took it.
#include <gtest/gtest.h>
#include <sys/syscall.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "sanitizer_build.hpp"
#include "linux/futex.hpp"
#include "linux/robust_list.hpp"
#include "mutex_types.hpp"
#include "process.hpp"
#include "ptrace_stepper.hpp"
#include "rfutex/capabilities.hpp"
#include "rfutex/robust_mutex.hpp"
#include "sleepers.hpp"
#include "strategy_fixture.hpp"

namespace {

using rfutex::lock_status;
using rfutex::try_status;
using rfutex::test::child_process;
using rfutex::test::hang_bound;
using rfutex::test::shared;
using rfutex::test::sleeper_record;
using rfutex::test::stepped_child;

RFUTEX_MUTEX_TYPED_SUITE(Liveness);

// Bounds every wait of one kill point (a sleeper going to sleep, a stop, the
// survivors' turns); only a regression ever reaches it.
constexpr std::chrono::milliseconds hang_limit{5000};
// Whole-run bound per kill point, should a wait the bounds above cannot
// interrupt (ptrace's own waitpid) hang.
constexpr unsigned alarm_seconds = 20;
// A window longer than this is not the release or re-acquisition path.
constexpr long max_points = 20000;

template <class M>
struct arena {
  M m;
  M warm_up;
  rfutex::test::turn_counter turns;
  sleeper_record sleepers[2];
  sleeper_record stepped;        // the traced thread, when it locks
  std::uintptr_t head = 0;       // the traced thread's robust-list head
  std::uintptr_t node = 0;       // its list node for `m`
  std::uint32_t tid = 0;         // the traced thread's TID
};

// The traced child's first lock initialises rfutex's per-thread state; do
// that before the traced part so only the operation itself is stepped.
template <class M>
void prepare_child(arena<M>& a) {
  (void)a.warm_up.lock();
  a.warm_up.unlock();
  const auto list = rfutex::current_robust_list();
  a.head = reinterpret_cast<std::uintptr_t>(list.head);
  a.node = reinterpret_cast<std::uintptr_t>(&a.m) - static_cast<std::uintptr_t>(list.futex_offset);
  a.tid = static_cast<std::uint32_t>(rfutex::sys::gettid());
}

template <class M>
std::uint32_t* word_of(arena<M>& a) {
  return reinterpret_cast<std::uint32_t*>(&a.m);
}

template <class M>
std::uint32_t word_value(arena<M>& a) {
  // acquire: a snapshot of another process's transitions.
  return std::atomic_ref<std::uint32_t>(*word_of(a)).load(std::memory_order_acquire);
}

template <class M>
std::uintptr_t pending_of(const stepped_child& c, const arena<M>& a) {
  return c.peek(a.head + offsetof(rfutex::sys::robust_list_head, list_op_pending));
}

// Forks sleeper `i`, which locks, records and unlocks; returns once it is
// asleep in the kernel on the word. Forked one after the other, they queue
// in this order.
template <class M>
child_process start_sleeper(arena<M>& a, int i) {
  auto c = child_process::fork([&a, i] {
    rfutex::test::die_with_parent();
    return rfutex::test::acquire_record_release(a.m, a.sleepers[i], a.turns);
  });
  rfutex::test::await_asleep(a.sleepers[i], word_of(a), hang_limit);
  return c;
}

// The calling thread (this test) as a third party that takes the lock
// through the fast path the instant it is free.
template <class M>
std::optional<lock_status> take_if_free(M& m) {
  auto r = m.try_lock();
  if (r.status() == try_status::busy) return std::nullopt;
  if (r.owner_died()) m.make_consistent();
  return r.owner_died() ? lock_status::owner_died : lock_status::acquired;
}

// Every sleeper that was queued ends having taken its own turn.
template <class M>
void expect_every_sleeper_acquires(arena<M>& a, std::vector<child_process>& sleepers,
                                   const std::string& where) {
  std::vector<sleeper_record*> records;
  for (std::size_t i = 0; i < sleepers.size(); ++i) records.push_back(&a.sleepers[i]);
  const std::string verdict = rfutex::test::await_every_sleeper(word_of(a), records, hang_limit);
  ASSERT_EQ(verdict, "") << where;
  for (auto& s : sleepers) ASSERT_TRUE(rfutex::test::exited_with(s.wait(), 0)) << where;
  EXPECT_TRUE(rfutex::test::took_distinct_turns(records)) << where;
}

std::string hex(std::uint32_t v) {
  char b[16];
  std::snprintf(b, sizeof b, "0x%x", v);
  return b;
}

enum class third_party { none, fast_path_taker };

// The unlocker at one instant, as its death leaves it to everyone else: the
// mutex's bytes, its robust-list head (`pending` and the chain the kernel
// walks) and how many syscalls it has entered (the kernel's side — wakes,
// hand-overs — changes only through them). Registers and private memory die
// with it, so two instants with equal views end the same way for the
// survivors.
template <class M>
std::vector<std::uintptr_t> survivors_view(const stepped_child& c, arena<M>& a, long syscalls) {
  std::vector<std::uintptr_t> v{static_cast<std::uintptr_t>(syscalls)};
  const auto* bytes = reinterpret_cast<std::uint32_t*>(&a.m);
  for (std::size_t i = 0; i < sizeof(M) / sizeof(std::uint32_t); ++i)
    // acquire: a snapshot; the sleepers may be writing it meanwhile.
    v.push_back(std::atomic_ref<std::uint32_t>(const_cast<std::uint32_t&>(bytes[i]))
                    .load(std::memory_order_acquire));
  v.push_back(c.peek(a.head + offsetof(rfutex::sys::robust_list_head, list_op_pending)));
  std::uintptr_t entry = c.peek(a.head);
  for (int i = 0; i < 8 && (entry & ~std::uintptr_t{1}) != a.head; ++i) {
    v.push_back(entry);
    entry = c.peek(entry & ~std::uintptr_t{1});
  }
  return v;
}

// One world: an unlocker holding the lock with `count` sleepers queued
// (confirmed asleep), killed after `k` instructions of its unlock(); with a
// fast-path taker, this thread tries to take the lock at the instant of the
// kill (it succeeds wherever the word is free) and releases it after the
// death. Checks every sleeper then acquires in turn. With `views`, records
// the survivors' view after each instruction (and steps to the end).
struct kill_tally {
  int owner_died = 0, acquired = 0, taken = 0;
};

template <class M>
void kill_unlocker_after(long k, int count, third_party third, kill_tally& tally,
                         std::vector<std::vector<std::uintptr_t>>* views) {
  hang_bound alarm(alarm_seconds);
  shared<arena<M>> a;
  stepped_child unlocker(
      [&] {
        rfutex::test::die_with_parent();
        prepare_child(*a);
        (void)a->m.lock();
      },
      [&] { a->m.unlock(); });
  std::vector<child_process> sleepers;
  for (int i = 0; i < count; ++i) sleepers.push_back(start_sleeper(*a, i));
  ASSERT_NE(word_value(*a) & rfutex::sys::futex_waiters, 0u) << "contended: sleepers announced";
  long syscalls = 0;
  if (views != nullptr) views->push_back(survivors_view(unlocker, *a, syscalls));
  for (long i = 0; i < k; ++i) {
    if (views != nullptr && unlocker.at_syscall_instruction()) ++syscalls;
    if (!unlocker.step()) break;
    if (views != nullptr) views->push_back(survivors_view(unlocker, *a, syscalls));
  }
  const std::uint32_t word_at_kill = word_value(*a);
  std::optional<lock_status> taken;
  if (third == third_party::fast_path_taker) taken = take_if_free(a->m);
  unlocker.kill();
  if (taken) {
    ++tally.taken;
    a->m.unlock();
  }
  expect_every_sleeper_acquires(
      *a, sleepers,
      "unlocker killed after " + std::to_string(k) + " instructions of its contended unlock (word then " +
          hex(word_at_kill) + (taken ? ", taken through the fast path before the death)" : ")"));
  for (int i = 0; i < count; ++i) (a->sleepers[i].outcome == 2 ? tally.owner_died : tally.acquired)++;
}

// SIGKILL of the unlocker after each instruction of its contended unlock().
// A first run steps the whole unlock (and checks the sleepers acquire after
// it); then a fresh world is killed at every instruction — or, where the
// unlock is long (sanitizer builds), at the first and last instruction of
// every stretch with one survivors' view, which ends the same way as any
// instruction inside it.
template <class M>
void kill_unlocker_at_every_instruction(int count, third_party third) {
  constexpr std::size_t every_instruction_up_to = 300;
  kill_tally tally;
  std::vector<std::vector<std::uintptr_t>> views;
  kill_unlocker_after<M>(max_points, count, third, tally, &views);
  if (::testing::Test::HasFatalFailure()) return;
  const long length = static_cast<long>(views.size()) - 1;  // instructions of the unlock
  ASSERT_GT(length, 4) << "the unlock was not stepped";
  ASSERT_LT(length, max_points) << "the unlock never finished";
  std::vector<long> points;
  for (long k = 0; k <= length; ++k) {
    const auto i = static_cast<std::size_t>(k);
    if (views.size() <= every_instruction_up_to || k == 0 || k == length ||
        views[i] != views[i - 1] || views[i] != views[i + 1])
      points.push_back(k);
  }
  for (long k : points) {
    kill_unlocker_after<M>(k, count, third, tally, nullptr);
    if (::testing::Test::HasFatalFailure()) return;
  }
  ::testing::Test::RecordProperty("instructions", static_cast<int>(length));
  ::testing::Test::RecordProperty("kill_points", static_cast<int>(points.size()));
  EXPECT_GT(tally.owner_died, 0) << "some kills came before the release (owner death)";
  EXPECT_GT(tally.acquired, 0) << "some kills came after the release";
  if (third == third_party::fast_path_taker) {
    EXPECT_GT(tally.taken, 0) << "the third party never found the word free";
  }
}

TYPED_TEST(Liveness, UnlockerKilledAtAnyInstructionStrandsNoSleeper) {
  kill_unlocker_at_every_instruction<TypeParam>(1, third_party::none);
}

TYPED_TEST(Liveness, UnlockerKilledAtAnyInstructionStrandsNeitherOfTwoSleepers) {
  kill_unlocker_at_every_instruction<TypeParam>(2, third_party::none);
}

TYPED_TEST(Liveness, UnlockerKilledAtAnyInstructionWhileAFastPathTakerRacesStrandsNoSleeper) {
  kill_unlocker_at_every_instruction<TypeParam>(2, third_party::fast_path_taker);
}

// A waiter woken from its sleep and killed at each instruction before it
// has taken the lock (or gone back to sleep), while this thread takes the
// freed word through the fast path: the other sleeper must still acquire
// once this thread unlocks. For a PI lock the kernel hands the lock over
// before the waiter returns, so its death there is an owner death.
template <class M>
void kill_woken_waiter_at_every_instruction() {
  long k = 0;
  int taken_seen = 0;
  for (bool finished = false; !finished; ++k) {
    ASSERT_LT(k, max_points) << "the woken waiter neither acquired nor slept again";
    hang_bound alarm(alarm_seconds);
    shared<arena<M>> a;
    ASSERT_EQ(a->m.lock(), lock_status::acquired);
    stepped_child waiter(
        [&] {
          rfutex::test::die_with_parent();
          prepare_child(*a);
        },
                         [&] { (void)rfutex::test::acquire_record_release(a->m, a->stepped, a->turns); });
    // Run the waiter to its futex() entry on the word, then let it sleep.
    for (bool entry = true;; entry = !entry) {
      ASSERT_TRUE(waiter.to_next_syscall_stop()) << "the waiter returned without sleeping";
      const auto r = waiter.regs();
      if (entry && rfutex::test::is_futex_syscall(static_cast<long>(r.syscall_nr)) && r.arg0 == reinterpret_cast<std::uintptr_t>(word_of(*a)))
        break;
    }
    waiter.let_run_to_next_syscall_stop();
    rfutex::test::await_blocked_on(waiter.pid(), waiter.pid(), word_of(*a), hang_limit);
    std::vector<child_process> sleepers;
    sleepers.push_back(start_sleeper(*a, 0));  // queued behind the waiter
    a->m.unlock();                             // wakes the waiter (first in the queue)
    ASSERT_TRUE(waiter.await_stop(hang_limit)) << "the waiter was not woken";
    std::optional<lock_status> taken = take_if_free(a->m);
    // The window ends once the waiter holds the word with its node linked
    // and `pending` clear, or is about to enter the kernel (to sleep again).
    const auto window_over = [&] {
      return ((word_value(*a) & rfutex::sys::futex_tid_mask) == a->tid &&
              pending_of(waiter, *a) == 0 && (waiter.peek(a->head) & ~std::uintptr_t{1}) == a->node) ||
             waiter.at_syscall_instruction();
    };
    for (long i = 0; i < k && !finished; ++i)
      if (window_over() || !waiter.step()) finished = true;
    if (!finished) finished = window_over();  // the instant after the k-th instruction
    waiter.kill();
    if (taken) {
      ++taken_seen;
      a->m.unlock();
    }
    expect_every_sleeper_acquires(*a, sleepers,
                                  "woken waiter killed " + std::to_string(k) +
                                      " instructions after its wake-up" +
                                      (taken ? ", the word taken through the fast path" : ""));
    if (::testing::Test::HasFatalFailure()) return;
  }
  EXPECT_GT(k, 2) << "the woken waiter was not stepped";
  ::testing::Test::RecordProperty("kill_points", static_cast<int>(k));
  // Where the unlock wakes every sleeper, the other sleeper may take the
  // word before this thread: the fast-path race is then theirs, not ours.
  ::testing::Test::RecordProperty("fast_path_takes", taken_seen);
}

TYPED_TEST(Liveness, WokenWaiterKilledBeforeReacquiringStrandsNoSleeper) {
#if defined(RFUTEX_TEST_TSAN)
  GTEST_SKIP() << "ThreadSanitizer's runtime makes single-stepping every instruction too slow to finish";
#endif
  kill_woken_waiter_at_every_instruction<TypeParam>();
}

}  // namespace
