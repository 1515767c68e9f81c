// SPDX-License-Identifier: MIT
// robust_shared_mutex under real deaths: a writer's death is reported to the
// next writer and to readers until repaired; a reader's death just gives its
// hold back, at any instruction of lock_shared()/unlock_shared(), and a
// waiting writer proceeds; random kills of many readers and writers in many
// processes never break the writers' invariant or strand anyone.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <random>
#include <thread>
#include <vector>

#include "sanitizer_build.hpp"
#include "errors.hpp"
#include "linux/futex.hpp"
#include "process.hpp"
#include "ptrace_stepper.hpp"
#include "rfutex/robust_shared_mutex.hpp"
#include "strategy_fixture.hpp"

namespace {

using rfutex::lock_status;
using rfutex::robust_shared_mutex;
using rfutex::try_status;
using rfutex::test::child_process;
using rfutex::test::errno_thrown_by;
using rfutex::test::event;
using rfutex::test::kill_instants;
using rfutex::test::shared;
using rfutex::test::stepped_child;

class SharedMutexDeath : public rfutex::test::strategy_test {};

struct arena {
  robust_shared_mutex m;
  robust_shared_mutex warm_up;
  event locked;
  std::uint32_t reader_tid = 0;
};

// A bound for waits that only a bug makes long (the test then fails
// instead of hanging); never a measurement.
constexpr auto hang_bound = std::chrono::seconds(10);

// The reader slot word `tid` holds (slots follow the writer's 40 bytes,
// 40 bytes each: docs/layout.md).
const std::uint32_t* slot_of(robust_shared_mutex& m, std::uint32_t tid) {
  auto* words = reinterpret_cast<std::uint32_t*>(&m);
  for (int i = 1; i <= robust_shared_mutex::max_readers; ++i)
    if ((std::atomic_ref<std::uint32_t>(words[i * 10]).load() & rfutex::sys::futex_tid_mask) == tid)
      return &words[i * 10];
  return nullptr;
}

void prepare_reader(arena& a) {
  (void)a.warm_up.lock_shared();
  a.warm_up.unlock_shared();
  a.reader_tid = static_cast<std::uint32_t>(gettid());
}

// A writer process that must get in within the hang bound.
child_process writer_that_must_get_in(arena& a) {
  return child_process::fork([&] {
    const auto r = a.m.try_lock_for(hang_bound);
    if (r.status() != try_status::acquired && r.status() != try_status::owner_died) return 1;
    a.m.unlock();
    return 0;
  });
}

long steps_of(const std::function<void(arena&)>& setup, const std::function<void(arena&)>& traced) {
  shared<arena> a;
  stepped_child c([&] { setup(*a); }, [&] { traced(*a); });
  long n = 0;
  while (c.step()) ++n;
  return n;
}

void writer_killed_holding(arena& a) {
  auto child = child_process::fork([&] {
    (void)a.m.lock();
    a.locked.set();
    pause();
    return 0;
  });
  a.locked.wait();
  child.kill(SIGKILL);
  child.wait();
}

TEST_F(SharedMutexDeath, AWritersDeathIsReportedToReadersAndToTheNextWriterUntilRepaired) {
  shared<arena> a;
  writer_killed_holding(*a);
  EXPECT_FALSE(a->m.consistent());
  ASSERT_EQ(a->m.lock_shared(), lock_status::owner_died) << "a reader learns of it";
  a->m.unlock_shared();
  ASSERT_EQ(a->m.lock_shared(), lock_status::owner_died) << "...every reader, until repaired";
  a->m.unlock_shared();
  ASSERT_EQ(a->m.lock(), lock_status::owner_died) << "the next writer repairs";
  a->m.make_consistent();
  a->m.unlock();
  EXPECT_TRUE(a->m.consistent());
  EXPECT_EQ(a->m.lock_shared(), lock_status::acquired);
  a->m.unlock_shared();
}

TEST_F(SharedMutexDeath, AWriterThatCannotWaitForReadersKeepsTheOwnerDeathForTheNext) {
  shared<arena> a;
  writer_killed_holding(*a);
  ASSERT_EQ(a->m.lock_shared(), lock_status::owner_died);
  std::thread writer([&] { EXPECT_EQ(a->m.try_lock().status(), try_status::busy); });
  writer.join();
  a->m.unlock_shared();
  ASSERT_EQ(a->m.lock(), lock_status::owner_died) << "the give-back must not hide the death";
  a->m.make_consistent();
  a->m.unlock();
}

TEST_F(SharedMutexDeath, UnlockingWithoutRepairMakesItNotRecoverableForEveryone) {
  shared<arena> a;
  writer_killed_holding(*a);
  ASSERT_EQ(a->m.lock(), lock_status::owner_died);
  a->m.unlock();
  EXPECT_EQ(errno_thrown_by([&] { (void)a->m.lock(); }), ENOTRECOVERABLE);
  EXPECT_EQ(errno_thrown_by([&] { (void)a->m.lock_shared(); }), ENOTRECOVERABLE);
}

// A reader in another process dies holding it while a writer sleeps waiting
// for that reader's slot: the kernel frees the slot and wakes the writer.
TEST_F(SharedMutexDeath, AReadersDeathLetsTheWaitingWriterIn) {
  shared<arena> a;
  auto reader = child_process::fork([&] {
    (void)a->m.lock_shared();
    a->reader_tid = static_cast<std::uint32_t>(gettid());
    a->locked.set();
    pause();
    return 0;
  });
  a->locked.wait();
  auto writer = child_process::fork([&] {
    const auto r = a->m.try_lock_for(hang_bound);
    if (r.status() != try_status::acquired) return 1;
    a->m.unlock();
    return 0;
  });
  const std::uint32_t* slot = slot_of(a->m, a->reader_tid);
  ASSERT_NE(slot, nullptr);
  rfutex::test::wait_until_blocked_on(writer.pid(), writer.pid(), slot);
  reader.kill(SIGKILL);
  reader.wait();
  EXPECT_TRUE(rfutex::test::exited_with(writer.wait(), 0)) << "the writer was not let in";
  EXPECT_EQ(a->m.readers(), 0);
}

// Readers asleep waiting for a writer that dies: the kernel wakes one of
// them (as for any robust futex); that one must pass the wake-up on, or the
// others sleep on a free lock for ever.
TEST_F(SharedMutexDeath, AWritersDeathWakesEveryWaitingReader) {
  shared<arena> a;
  auto writer = child_process::fork([&] {
    (void)a->m.lock();
    a->locked.set();
    pause();
    return 0;
  });
  a->locked.wait();
  std::vector<std::optional<child_process>> readers(3);
  for (auto& r : readers) {
    r.emplace(child_process::fork([&] {
      const auto got = a->m.try_lock_shared_for(hang_bound);
      if (got.status() != try_status::owner_died) return 1;
      a->m.unlock_shared();
      return 0;
    }));
    rfutex::test::wait_until_blocked_on(r->pid(), r->pid(), &a->m);
  }
  writer.kill(SIGKILL);
  writer.wait();
  for (auto& r : readers)
    EXPECT_TRUE(rfutex::test::exited_with(r->wait(), 0)) << "a reader slept on after the writer died";
}

// SIGKILL after every single instruction of a real lock_shared(): the slot
// is never lost, a writer always gets in afterwards.
TEST_F(SharedMutexDeath, AReaderKilledAtAnyInstructionOfLockSharedNeverBlocksAWriter) {
#if defined(RFUTEX_TEST_TSAN)
  GTEST_SKIP() << "ThreadSanitizer's runtime makes single-stepping every instruction too slow to finish";
#endif
  const auto setup = [](arena& a) { prepare_reader(a); };
  const auto traced = [](arena& a) { (void)a.m.lock_shared(); };
  const long total = steps_of(setup, traced);
  ASSERT_GT(total, 10);
  for (long k : kill_instants(total)) {
    shared<arena> a;
    stepped_child c([&] { setup(*a); }, [&] { traced(*a); });
    for (long i = 0; i < k && c.step(); ++i) {
    }
    c.kill();
    auto writer = writer_that_must_get_in(*a);
    ASSERT_TRUE(rfutex::test::exited_with(writer.wait(), 0)) << "killed after " << k << " of " << total
                                                             << " instructions: the writer was shut out";
    ASSERT_EQ(a->m.readers(), 0) << "k=" << k;
  }
}

// The same for unlock_shared(), with the writer already asleep waiting for
// the reader's slot when the reader dies.
TEST_F(SharedMutexDeath, AReaderKilledAtAnyInstructionOfUnlockSharedWakesTheWaitingWriter) {
#if defined(RFUTEX_TEST_TSAN)
  GTEST_SKIP() << "ThreadSanitizer's runtime makes single-stepping every instruction too slow to finish";
#endif
  const auto setup = [](arena& a) {
    prepare_reader(a);
    (void)a.m.lock_shared();
  };
  const auto traced = [](arena& a) { a.m.unlock_shared(); };
  const long total = steps_of(setup, traced);
  ASSERT_GT(total, 10);
  for (long k : kill_instants(total)) {
    shared<arena> a;
    stepped_child c([&] { setup(*a); }, [&] { traced(*a); });
    const std::uint32_t* slot = slot_of(a->m, a->reader_tid);
    ASSERT_NE(slot, nullptr);
    auto writer = writer_that_must_get_in(*a);
    rfutex::test::wait_until_blocked_on(writer.pid(), writer.pid(), slot);
    for (long i = 0; i < k && c.step(); ++i) {
    }
    c.kill();
    ASSERT_TRUE(rfutex::test::exited_with(writer.wait(), 0)) << "killed after " << k << " of " << total
                                                             << " instructions: the writer slept on";
  }
}

// A reader stopped at any instruction of lock_shared() while a writer takes
// the lock: once the writer holds it exclusively, the reader must not get in
// (it re-checks the writer word after taking its slot, and backs off) — it
// ends up in a futex call instead of returning.
TEST_F(SharedMutexDeath, AReaderStoppedAnywhereNeverEntersBesideAWriter) {
#if defined(RFUTEX_TEST_TSAN)
  GTEST_SKIP() << "ThreadSanitizer's runtime makes single-stepping every instruction too slow to finish";
#endif
  const auto setup = [](arena& a) { prepare_reader(a); };
  const auto traced = [](arena& a) { (void)a.m.lock_shared(); };
  const long total = steps_of(setup, traced);
  int writer_first = 0;
  for (long k : kill_instants(total)) {
    shared<arena> a;
    stepped_child c([&] { setup(*a); }, [&] { traced(*a); });
    for (long i = 0; i < k && c.step(); ++i) {
    }
    const auto w = a->m.try_lock();
    if (!w) continue;  // the reader already holds its slot: the writer waits
    ++writer_first;
    EXPECT_TRUE(c.to_next_syscall_stop())
        << "stopped after " << k << " of " << total
        << " instructions, the reader finished lock_shared() while a writer held the lock";
    c.kill();
    a->m.unlock();
  }
  EXPECT_GT(writer_first, 0);
}

// Readers and writers in four processes, SIGKILLed at random and replaced;
// writers keep a == b, readers check it. Every death of a writer mid-update
// is repaired by the next writer (b = a); no reader ever sees a != b on an
// acquisition that said `acquired`; at the end a writer gets in.
TEST_F(SharedMutexDeath, RandomKillsOfReadersAndWritersBreakNothing) {
  struct storm {
    robust_shared_mutex m;
    std::uint64_t a = 0, b = 0;
    std::uint32_t torn = 0, ops = 0;
  };
  shared<storm> s;
  auto worker = [&](unsigned seed) {
    return child_process::fork([&, seed] {
      std::minstd_rand random(seed);
      for (;;) {
        if (random() % 4 == 0) {
          if (s->m.lock() == lock_status::owner_died) {
            s->b = s->a;  // the dead writer stopped between its two stores
            s->m.make_consistent();
          }
          s->a = s->a + 1;
          std::atomic_signal_fence(std::memory_order_seq_cst);
          s->b = s->b + 1;
          s->m.unlock();
        } else {
          const lock_status st = s->m.lock_shared();
          if (st == lock_status::acquired && s->a != s->b)
            std::atomic_ref<std::uint32_t>(s->torn).fetch_add(1);
          s->m.unlock_shared();
        }
        std::atomic_ref<std::uint32_t>(s->ops).fetch_add(1, std::memory_order_relaxed);
      }
      return 0;
    });
  };
  std::vector<std::optional<child_process>> workers(4);
  for (unsigned i = 0; i < 4; ++i) workers[i].emplace(worker(i + 1));
  std::minstd_rand random(42);
  for (int kill = 0; kill < 300; ++kill) {
    usleep(static_cast<useconds_t>(random() % 300));
    const std::size_t victim = random() % workers.size();
    workers[victim]->kill(SIGKILL);
    workers[victim]->wait();
    workers[victim].emplace(worker(static_cast<unsigned>(100 + kill)));
  }
  for (auto& w : workers) {
    w->kill(SIGKILL);
    w->wait();
  }
  const auto r = s->m.try_lock_for(hang_bound);
  ASSERT_TRUE(r) << "after the storm no writer could get in";
  if (r.owner_died()) {
    s->b = s->a;
    s->m.make_consistent();
  }
  EXPECT_EQ(s->a, s->b);
  EXPECT_EQ(s->torn, 0u);
  EXPECT_GT(s->ops, 300u);
  EXPECT_EQ(s->m.readers(), 0);
  s->m.unlock();
}

}  // namespace
