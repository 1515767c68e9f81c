// SPDX-License-Identifier: MIT
// The unmap guard in processes created by fork() without exec, under
// LD_PRELOAD=librfutex-guard.so: the race the guard exists for, run in a fork
// child (and in the grandchild of a daemon()-style double fork). The child's
// own first thread — the one that forked — is stopped by ptrace between the
// release of a robust pthread mutex and the clear of its pending slot; the
// child's other thread unmaps the lock's file page and maps another file
// there; then the child is SIGKILLed. If the guard did not know the forking
// thread, the kernel writes FUTEX_OWNER_DIED into the other file.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/futex.h>

#include <atomic>
#include <cerrno>
#include <climits>
#include <cstring>
#include <string>

#include "sanitizer_build.hpp"
#include "fork_race.hpp"
#include "process.hpp"

namespace {

using rfutex::test::fork_race_control;

constexpr std::size_t page_size = 4096;
constexpr std::uint32_t owner_died = 0x40000000u;

struct memfd {
  int fd;
  memfd(const char* name, std::size_t size) : fd(::memfd_create(name, 0)) {  // inherited by exec
    if (fd >= 0 && ::ftruncate(fd, static_cast<off_t>(size)) != 0) {
      ::close(fd);
      fd = -1;
    }
  }
  ~memfd() {
    if (fd >= 0) ::close(fd);
  }
};

void set_flag(std::uint32_t& f) {
  // release: the victim acts on the flag only.
  std::atomic_ref<std::uint32_t>(f).store(1, std::memory_order_release);
  ::syscall(SYS_futex, &f, FUTEX_WAKE, INT_MAX, nullptr, nullptr, 0);
}

// Waits for a victim flag; false after ~20 s (a victim that died or hangs).
bool wait_flag(std::uint32_t& f) {
  std::atomic_ref<std::uint32_t> a(f);
  for (int i = 0; i < 1000; ++i) {
    // acquire: pairs with the victim's release of the flag.
    if (a.load(std::memory_order_acquire) != 0) return true;
    const timespec in_20ms{0, 20'000'000};
    ::syscall(SYS_futex, &f, FUTEX_WAIT, 0, &in_20ms, nullptr, 0);
  }
  return a.load(std::memory_order_acquire) != 0;
}

struct outcome {
  std::string failure;         // empty when the scenario ran to the kill
  long steps = 0;              // single-steps until the lock word read 0
  std::uintptr_t pending_at_stop = 0, pending_at_kill = 0;
  std::uint32_t registered = 0, threads = 0;
  std::uint32_t word_before = 0, word_after = 0;  // file B's word at the lock's offset
};

long trace(int request, pid_t tid, std::uintptr_t addr = 0) {
  return ::ptrace(static_cast<enum __ptrace_request>(request), tid, addr, 0);
}

outcome run_scenario(const char* how, bool preload) {
  outcome o;
  memfd control("fork-race-control", sizeof(fork_race_control)), a("lock-file", page_size),
      b("other-file", page_size);
  if (control.fd < 0 || a.fd < 0 || b.fd < 0) return {"memfd_create: " + std::string(std::strerror(errno))};
  void* cp = ::mmap(nullptr, sizeof(fork_race_control), PROT_READ | PROT_WRITE, MAP_SHARED, control.fd, 0);
  auto* word = static_cast<std::uint32_t*>(
      ::mmap(nullptr, page_size, PROT_READ | PROT_WRITE, MAP_SHARED, a.fd, 0));
  if (cp == MAP_FAILED || word == MAP_FAILED) return {"mmap failed"};
  auto& c = *new (cp) fork_race_control;

  const std::string guard = rfutex::test::build_tree_path("src/librfutex-guard.so");
  const std::string victim = rfutex::test::build_tree_path("tests/guard/rfutex_fork_victim");
  const std::string fds[] = {std::to_string(control.fd), std::to_string(a.fd), std::to_string(b.fd)};
  std::fflush(nullptr);
  const pid_t starter = ::fork();
  if (starter == 0) {
    if (preload) ::setenv("LD_PRELOAD", guard.c_str(), 1); else ::unsetenv("LD_PRELOAD");
    ::setenv("ASAN_OPTIONS", "verify_asan_link_order=0", 1);
    ::execl(victim.c_str(), victim.c_str(), fds[0].c_str(), fds[1].c_str(), fds[2].c_str(), how,
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  pid_t u = 0;
  auto finish = [&] {
    if (u > 0) {
      ::kill(u, SIGKILL);
      int status = 0;  // U's exit (its robust list handled) reaches its tracer
      while (::waitpid(u, &status, __WALL) == u && !WIFEXITED(status) && !WIFSIGNALED(status)) {
      }
    }
    int status = 0;
    ::waitpid(starter, &status, 0);
  };
  if (!wait_flag(c.ready)) {
    finish();
    return {"the victim never got ready"};
  }
  u = c.u_tid;
  o.registered = c.registered;
  o.threads = c.threads;
  if (c.setup_errno != 0) {
    finish();
    return {"victim setup: " + std::string(std::strerror(c.setup_errno))};
  }
  // File B: U's TID where the lock word is, as if B held a lock U owns.
  std::uint32_t contents[page_size / 4] = {};
  contents[0] = static_cast<std::uint32_t>(u);
  if (::pwrite(b.fd, contents, sizeof contents, 0) != static_cast<ssize_t>(sizeof contents)) {
    finish();
    return {"pwrite failed"};
  }
  int status = 0;
  if (trace(PTRACE_SEIZE, u) != 0 || trace(PTRACE_INTERRUPT, u) != 0 ||
      ::waitpid(u, &status, __WALL) != u) {
    o.failure = "ptrace attach: " + std::string(std::strerror(errno));
    finish();
    return o;
  }
  set_flag(c.go_unlock);
  while (std::atomic_ref<std::uint32_t>(*word).load(std::memory_order_relaxed) != 0) {
    if (++o.steps > 1'000'000 || trace(PTRACE_SINGLESTEP, u) != 0 ||
        ::waitpid(u, &status, __WALL) != u || !WIFSTOPPED(status)) {
      o.failure = "lost U while stepping its unlock";
      finish();
      return o;
    }
  }
  errno = 0;
  o.pending_at_stop = static_cast<std::uintptr_t>(trace(PTRACE_PEEKDATA, u, c.pending_slot));
  set_flag(c.go_remap);  // U stays stopped in the window; H replaces the page
  if (!wait_flag(c.remap_done) || c.remap_errno != 0) {
    o.failure = "the remap failed: " + std::string(std::strerror(c.remap_errno));
    finish();
    return o;
  }
  o.pending_at_kill = static_cast<std::uintptr_t>(trace(PTRACE_PEEKDATA, u, c.pending_slot));
  finish();
  std::uint32_t after[page_size / 4];
  if (::pread(b.fd, after, sizeof after, 0) != static_cast<ssize_t>(sizeof after)) return {"pread failed"};
  o.word_before = contents[0];
  o.word_after = after[0];
  ::munmap(word, page_size);
  ::munmap(cp, sizeof(fork_race_control));
  return o;
}

class ForkChildUnderThePreload : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
#if defined(RFUTEX_STATIC_BUILD)
    GTEST_SKIP() << "static build: LD_PRELOAD does not apply";
#endif
#if defined(RFUTEX_TEST_TSAN)
    GTEST_SKIP() << "ThreadSanitizer's runtime cannot be single-stepped through";
#endif
#if defined(RFUTEX_TEST_ASAN)
    GTEST_SKIP() << "an AddressSanitizer program refuses a preloaded library ahead of its runtime";
#endif
    ::alarm(60);  // a hang fails fast
  }
  void TearDown() override { ::alarm(0); }
};

TEST_P(ForkChildUnderThePreload, TheForkingThreadIsGuardedAndTheOtherFileStaysIntact) {
  const outcome o = run_scenario(GetParam(), true);
  ASSERT_EQ(o.failure, "");
  EXPECT_NE(o.pending_at_stop, 0u) << "U was not stopped between release and clear";
  EXPECT_EQ(o.threads, 2u);
  EXPECT_EQ(o.registered, o.threads) << "the child's guard does not know all its threads";
  EXPECT_EQ(o.pending_at_kill, 0u) << "the remap left U's pending slot pointing into file B";
  EXPECT_EQ(o.word_after, o.word_before) << "the kernel wrote into file B at U's death";
}

// The same without the guard: file B is corrupted, which shows the scenario
// reaches the window the guard closes.
TEST_P(ForkChildUnderThePreload, WithoutTheGuardTheOtherFileIsCorrupted) {
  const outcome o = run_scenario(GetParam(), false);
  ASSERT_EQ(o.failure, "");
  EXPECT_NE(o.pending_at_stop, 0u);
  EXPECT_NE(o.pending_at_kill, 0u);
  EXPECT_NE(o.word_after, o.word_before);
  EXPECT_NE(o.word_after & owner_died, 0u) << "the kernel's owner-died mark";
}

INSTANTIATE_TEST_SUITE_P(Forks, ForkChildUnderThePreload, ::testing::Values("fork", "daemon"),
                         [](const auto& p) { return std::string(p.param); });

}  // namespace
