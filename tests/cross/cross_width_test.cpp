// SPDX-License-Identifier: MIT
// 64-bit and 32-bit processes on one lock. Two peers (tests/cross/peer.cpp),
// one per role, share a robust_mutex, a robust_pi_mutex, a
// robust_condition_variable (with its mutex) and a robust_shared_mutex in one
// memfd, inherited through exec. They contend on all four and kill each
// other by a seeded plan: either at once, wherever the victim is, or while it
// holds the mutex, the PI mutex, or the reader-writer lock exclusively or
// shared. The killer recovers every owner death before the victim's
// successor starts, so each is recovered by the other role's process — in
// the mixed case, by the other width; a killed reader's hold must simply be
// gone. Checked at the end: every peer finished its loop, no owner death was
// met outside a killer's sweep, each planned death while holding was
// recovered (or, for a reader, found released), the four counters are exact
// (total == sum of every incarnation's share), and the locks are consistent.
//
// The 32-bit peer comes from the i386 build tree named by RFUTEX_TREE_i386
// (the VM runner sets it when it boots both widths: tests/vm/run --with);
// without it, or on a kernel without 32-bit emulation, that case skips. The
// 64+64 case runs everywhere. RFUTEX_CROSS_SEED=<n> replays a plan.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <ctime>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "cross_arena.hpp"
#include "linux/futex.hpp"
#include "process.hpp"
#include "strategy_fixture.hpp"

namespace {

using namespace rfutex::cross;

constexpr int peer_exit_ok = 0;
constexpr std::uint32_t kills_per_killer = 6;  // each role kills the other this often
constexpr long sweep_limit_s = 120;            // a killer's sweep must end by then

std::string peer_in(const std::string& tree) { return tree + "/tests/cross/rfutex_cross_width_peer"; }

std::uint32_t seed_from_env(std::uint32_t fallback) {
  const char* s = std::getenv("RFUTEX_CROSS_SEED");
  return s != nullptr ? static_cast<std::uint32_t>(std::strtoul(s, nullptr, 0)) : fallback;
}

// Per killer: one death while holding each of the mutex, the PI mutex, the
// reader-writer lock exclusively and shared, the rest anywhere after a
// random delay; the order of all steps shuffled by the seed.
std::vector<kill_step> make_plan(std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<std::uint32_t> delay(0, 400);
  std::vector<kill_step> plan;
  for (std::uint32_t killer = 0; killer < 2; ++killer) {
    plan.push_back({killer, holding_m, 0});
    plan.push_back({killer, holding_pm, 0});
    plan.push_back({killer, holding_rw, 0});
    plan.push_back({killer, holding_rw_shared, 0});
    for (std::uint32_t i = 4; i < kills_per_killer; ++i) plan.push_back({killer, anywhere, delay(rng)});
  }
  std::shuffle(plan.begin(), plan.end(), rng);
  return plan;
}

class CrossWidth : public rfutex::test::strategy_test {
 protected:
  void SetUp() override {
    strategy_test::SetUp();
    if (IsSkipped()) return;
    fd_ = ::memfd_create("rfutex-cross-width", 0);  // no MFD_CLOEXEC: the peers inherit it
    ASSERT_GE(fd_, 0);
    ASSERT_EQ(::ftruncate(fd_, sizeof(arena)), 0);
    void* p = ::mmap(nullptr, sizeof(arena), PROT_READ | PROT_WRITE, MAP_SHARED, fd_, 0);
    ASSERT_NE(p, MAP_FAILED);
    a_ = static_cast<arena*>(p);  // zero-filled: free, consistent locks
  }
  void TearDown() override {
    for (auto& [pid, role] : roles_) ::kill(pid, SIGKILL);
    for (auto& [pid, role] : roles_) ::waitpid(pid, nullptr, 0);
    if (a_ != nullptr) ::munmap(a_, sizeof(arena));
    if (fd_ >= 0) ::close(fd_);
  }

  pid_t spawn(std::uint32_t role) {
    const std::string path = paths_[role];
    const std::string fd = std::to_string(fd_), r = std::to_string(role), s = std::to_string(next_slot_++);
    std::fflush(nullptr);
    const pid_t pid = ::fork();
    if (pid == 0) {
      ::execl(path.c_str(), path.c_str(), fd.c_str(), r.c_str(), s.c_str(), static_cast<char*>(nullptr));
      std::_Exit(127);
    }
    roles_[pid] = role;
    return pid;
  }

  // Waits (bounded) until the killers have finished `n` sweeps.
  bool wait_for_sweeps(std::uint32_t n) {
    timespec now{};
    ::clock_gettime(CLOCK_MONOTONIC, &now);
    const rfutex::sys::kernel_timespec until{now.tv_sec + sweep_limit_s, now.tv_nsec};
    for (;;) {
      // acquire: the sweep's repairs happen-before the successor starts.
      const std::uint32_t done = std::atomic_ref<std::uint32_t>(a_->kills_done).load(std::memory_order_acquire);
      if (done >= n) return true;
      if (rfutex::sys::futex_wait(&a_->kills_done, done, &until) == -ETIMEDOUT) return false;
    }
  }

  void run(const std::string& tree0, const std::string& tree1, std::uint32_t bits1) {
    paths_[0] = peer_in(tree0);
    paths_[1] = peer_in(tree1);
    for (const auto& p : paths_) ASSERT_EQ(::access(p.c_str(), X_OK), 0) << "no peer program " << p;
    const std::uint32_t seed = seed_from_env(0x5eed0000u + bits1);
    const std::vector<kill_step> plan = make_plan(seed);
    RecordProperty("seed", static_cast<int>(seed));
    std::printf("kill plan seed %u (RFUTEX_CROSS_SEED replays it), %zu kills\n", seed, plan.size());
    a_->kills = static_cast<std::uint32_t>(plan.size());
    std::copy(plan.begin(), plan.end(), a_->plan);

    spawn(0);
    spawn(1);
    std::uint32_t reaped_kills = 0, finished = 0;
    std::vector<std::string> problems;
    while (finished < 2 && problems.empty()) {
      int st = 0;
      const pid_t pid = ::waitpid(-1, &st, 0);
      ASSERT_GT(pid, 0);
      const auto it = roles_.find(pid);
      ASSERT_NE(it, roles_.end());
      const std::uint32_t role = it->second;
      roles_.erase(it);
      if (rfutex::test::killed_by(st, SIGKILL)) {
        ++reaped_kills;
        if (!wait_for_sweeps(reaped_kills)) {
          problems.push_back("no sweep after a kill within the limit");
          break;
        }
        spawn(role);
      } else if (rfutex::test::exited_with(st, peer_exit_ok)) {
        ++finished;
      } else {
        problems.push_back("peer role " + std::to_string(role) + ": " + rfutex::test::describe_status(st));
      }
    }
    ASSERT_TRUE(problems.empty()) << problems.front();

    EXPECT_EQ(a_->bits[0], 64u);
    EXPECT_EQ(a_->bits[1], bits1) << "the second peer's width";
    EXPECT_EQ(a_->failures, 0u);
    EXPECT_EQ(a_->kills_done, plan.size()) << "every planned kill happened";
    EXPECT_EQ(reaped_kills, plan.size());
    EXPECT_EQ(a_->unexpected_owner_died, 0u) << "an owner death was met outside the killer's sweep";
    // Each killer's two holding deaths were recovered by it (the other width).
    for (std::uint32_t role = 0; role < 2; ++role) {
      EXPECT_GE(a_->recovered[mutex_lock][role], 1u) << "role " << role << ", mutex";
      EXPECT_GE(a_->recovered[pi_lock][role], 1u) << "role " << role << ", PI mutex";
      EXPECT_GE(a_->recovered[rw_lock][role], 1u) << "role " << role << ", reader-writer lock";
      EXPECT_GE(a_->readers_freed[role], 1u) << "role " << role << ", a killed reader";
    }
    std::printf("owner deaths recovered by role 0 / role 1: mutex %u/%u, PI mutex %u/%u, cv mutex %u/%u, "
                "rwlock %u/%u; killed readers' holds found released %u/%u\n",
                a_->recovered[mutex_lock][0], a_->recovered[mutex_lock][1], a_->recovered[pi_lock][0],
                a_->recovered[pi_lock][1], a_->recovered[cv_lock][0], a_->recovered[cv_lock][1],
                a_->recovered[rw_lock][0], a_->recovered[rw_lock][1], a_->readers_freed[0],
                a_->readers_freed[1]);

    // The locks are free and consistent; every counter is exact.
    EXPECT_EQ(a_->m.lock(), rfutex::lock_status::acquired);
    EXPECT_EQ(a_->pm.lock(), rfutex::lock_status::acquired);
    EXPECT_EQ(a_->cm.lock(), rfutex::lock_status::acquired);
    EXPECT_EQ(a_->rw.lock(), rfutex::lock_status::acquired);
    for (std::uint32_t i = 0; i < lock_count; ++i) {
      const counted& d = a_->data[i];
      std::uint64_t sum = 0;
      for (std::uint32_t s = 0; s < max_slots; ++s) sum += d.by_slot[s];
      EXPECT_EQ(d.journal_valid, 0u) << "lock " << i;
      EXPECT_EQ(d.total, sum) << "lock " << i << ": an increment was lost or doubled";
      EXPECT_GT(d.total, 0u) << "lock " << i;
    }
    a_->rw.unlock();
    a_->cm.unlock();
    a_->pm.unlock();
    a_->m.unlock();
  }

  int fd_ = -1;
  arena* a_ = nullptr;
  std::string paths_[2];
  std::map<pid_t, std::uint32_t> roles_;
  std::uint32_t next_slot_ = 0;
};

std::string own_tree() {
  // <tree>/tests/cross/<this binary>
  return rfutex::test::build_tree_path("");
}

TEST_F(CrossWidth, SixtyFourAndSixtyFourBitProcessesShareLocksThroughDeaths) {
  run(own_tree(), own_tree(), 64);
}

TEST_F(CrossWidth, SixtyFourAndThirtyTwoBitProcessesShareLocksThroughDeaths) {
  const char* tree32 = std::getenv("RFUTEX_TREE_i386");
  if (tree32 == nullptr)
    GTEST_SKIP() << "no i386 build tree (RFUTEX_TREE_i386): runs in the x86 VM, which boots both widths "
                    "(tests/vm/run --arch x86_64 --with i386=DIR)";
  run(own_tree(), tree32, 32);
}

}  // namespace
