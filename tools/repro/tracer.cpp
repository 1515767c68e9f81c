// SPDX-License-Identifier: MIT
// The tracer side of `rfutex repro`: runs one reproduction and collects the
// evidence. See repro.hpp.
#include <elf.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <climits>
#include <cstring>
#include <string>

#include "../../src/linux/futex.hpp"
#include "repro.hpp"

namespace rfutex::tool::repro {

namespace {

constexpr std::size_t page_size = 4096;
constexpr long step_limit = 1'000'000;

// The second file's contents: a pattern the tracer recognises, with U's TID
// in the word at the lock's offset (filled in once U exists).
std::uint32_t pattern(std::size_t index) { return 0x5a5a0000u + static_cast<std::uint32_t>(index); }

struct fd_guard {
  int fd;
  ~fd_guard() {
    if (fd >= 0) ::close(fd);
  }
};

int make_memfd(const char* name, std::size_t size) {
  const int fd = ::memfd_create(name, 0);  // inherited by the victim across exec
  if (fd >= 0 && ::ftruncate(fd, static_cast<off_t>(size)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

long ptrace_call(int request, pid_t tid, std::uintptr_t addr, std::uintptr_t data) {
  return ::ptrace(static_cast<enum __ptrace_request>(request), tid, addr, data);
}

bool peek(pid_t tid, std::uintptr_t address, std::uintptr_t& value) {
  errno = 0;
  const long v = ptrace_call(PTRACE_PEEKDATA, tid, address, 0);
  value = static_cast<std::uintptr_t>(v);
  return errno == 0;
}

std::uintptr_t ip_of(pid_t tid) {
  user_regs_struct r{};
#if defined(__aarch64__)
  // arm64 has no PTRACE_GETREGS: the general registers are the NT_PRSTATUS set.
  iovec io{&r, sizeof r};
  ptrace_call(PTRACE_GETREGSET, tid, NT_PRSTATUS, reinterpret_cast<std::uintptr_t>(&io));
  return static_cast<std::uintptr_t>(r.pc);
#else
  ptrace_call(PTRACE_GETREGS, tid, 0, reinterpret_cast<std::uintptr_t>(&r));
#if defined(__x86_64__)
  return r.rip;
#else
  return static_cast<std::uintptr_t>(r.eip);
#endif
#endif
}

sys::kernel_timespec monotonic_in_20ms() {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  const std::int64_t ns = now.tv_nsec + 20'000'000;
  return {now.tv_sec + ns / 1'000'000'000, ns % 1'000'000'000};
}

// Waits for a victim flag, giving up (false) if the victim exits first.
bool wait_victim_flag(std::uint32_t& f, pid_t victim) {
  std::atomic_ref<std::uint32_t> a(f);
  // acquire: pairs with the victim's release of the flag.
  while (a.load(std::memory_order_acquire) == 0) {
    const sys::kernel_timespec at = monotonic_in_20ms();
    sys::futex_wait(&f, 0, &at);
    int status = 0;
    if (a.load(std::memory_order_acquire) == 0 && ::waitpid(victim, &status, WNOHANG) == victim)
      return false;
  }
  return true;
}

void set_flag(std::uint32_t& f) {
  // release: the victim acts on the flag only.
  std::atomic_ref<std::uint32_t>(f).store(1, std::memory_order_release);
  sys::futex_wake(&f, INT_MAX);
}

pid_t spawn_victim(const std::string& self, int fd_control, int fd_a, int fd_b, unlock_mode unlock,
                   remap_mode remap) {
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  if (pid != 0) return pid;
  switch (unlock) {
    case unlock_mode::rfutex_kernel: ::setenv("RFUTEX_UNLOCK", "kernel", 1); break;
    case unlock_mode::rfutex_guarded: ::setenv("RFUTEX_UNLOCK", "guarded", 1); break;
    case unlock_mode::rfutex: ::unsetenv("RFUTEX_UNLOCK"); break;
    case unlock_mode::glibc: break;
  }
  const std::string a = std::to_string(fd_control), b = std::to_string(fd_a),
                    c = std::to_string(fd_b), u(name_of(unlock)), r(name_of(remap));
  const char* argv[] = {self.c_str(), "__repro-victim", a.c_str(), b.c_str(), c.c_str(),
                        u.c_str(), r.c_str(), nullptr};
  ::execv(self.c_str(), const_cast<char* const*>(argv));
  ::_exit(127);
}

}  // namespace

run_evidence run_once(const std::string& self, unlock_mode unlock, remap_mode remap,
                      run_context& context) {
  run_evidence ev;
  fd_guard fd_control{make_memfd("rfutex-repro-control", sizeof(control_block))};
  fd_guard fd_a{make_memfd("rfutex-repro-lock-file", page_size)};
  fd_guard fd_b{make_memfd("rfutex-repro-other-file", page_size)};
  if (fd_control.fd < 0 || fd_a.fd < 0 || fd_b.fd < 0) {
    ev.failure = std::string("memfd_create: ") + std::strerror(errno);
    return ev;
  }
  void* cp = ::mmap(nullptr, sizeof(control_block), PROT_READ | PROT_WRITE, MAP_SHARED,
                    fd_control.fd, 0);
  if (cp == MAP_FAILED) {
    ev.failure = std::string("mmap: ") + std::strerror(errno);
    return ev;
  }
  auto& c = *new (cp) control_block;
  struct unmapper {
    void* p;
    ~unmapper() { ::munmap(p, sizeof(control_block)); }
  } unmap_control{cp};

  const pid_t victim = spawn_victim(self, fd_control.fd, fd_a.fd, fd_b.fd, unlock, remap);
  if (victim < 0) {
    ev.failure = std::string("fork: ") + std::strerror(errno);
    return ev;
  }
  auto kill_victim = [&] {
    ::kill(victim, SIGKILL);
    int status = 0;
    if (c.u_tid != 0) ::waitpid(static_cast<pid_t>(c.u_tid), &status, __WALL);
    ::waitpid(victim, &status, 0);
  };

  if (!wait_victim_flag(c.ready, victim)) {
    ev.failure = "the victim exited before it was ready";
    return ev;
  }
  context.strategy = c.strategy;
  context.guard_loaded = c.guard_loaded != 0;
  if (c.setup_errno != 0) {
    ev.failure = c.message;
    kill_victim();
    return ev;
  }

  // The other file: the pattern, with U's TID where the lock word is.
  std::uint32_t contents[page_size / 4];
  for (std::size_t i = 0; i < page_size / 4; ++i) contents[i] = pattern(i);
  contents[0] = c.u_tid;
  if (::pwrite(fd_b.fd, contents, sizeof contents, 0) != static_cast<ssize_t>(sizeof contents)) {
    ev.failure = std::string("pwrite: ") + std::strerror(errno);
    kill_victim();
    return ev;
  }

  const pid_t u = static_cast<pid_t>(c.u_tid);
  int status = 0;
  if (ptrace_call(PTRACE_SEIZE, u, 0, 0) != 0 || ptrace_call(PTRACE_INTERRUPT, u, 0, 0) != 0 ||
      ::waitpid(u, &status, __WALL) != u) {
    ev.failure = std::string("ptrace attach to U: ") + std::strerror(errno);
    kill_victim();
    return ev;
  }
  set_flag(c.go_unlock);

  // Step U until the lock word reads 0.
  for (;;) {
    if (ev.steps >= step_limit) {
      ev.failure = "U never released the lock word within the step limit";
      kill_victim();
      return ev;
    }
    const std::uintptr_t ip = ip_of(u);
    if (ptrace_call(PTRACE_SINGLESTEP, u, 0, 0) != 0 || ::waitpid(u, &status, __WALL) != u ||
        !WIFSTOPPED(status)) {
      ev.failure = "lost U while stepping";
      kill_victim();
      return ev;
    }
    ++ev.steps;
    std::uintptr_t word = 0;
    if (!peek(u, c.lock_address, word)) {
      ev.failure = "cannot read the lock word";
      kill_victim();
      return ev;
    }
    if (static_cast<std::uint32_t>(word) == 0) {
      ev.ip = ip;
      ev.ip_in_vdso = ip >= c.vdso_begin && ip < c.vdso_end;
      peek(u, c.pending_slot, ev.pending_at_stop);
      break;
    }
  }

  // U stays stopped in the window; H replaces the page.
  set_flag(c.go_remap);
  if (!wait_victim_flag(c.remap_done, victim)) {
    ev.failure = "the victim exited during the remap";
    kill_victim();
    return ev;
  }
  if (c.remap_errno != 0) {
    ev.failure = std::string("remap failed: ") + std::strerror(c.remap_errno);
    kill_victim();
    return ev;
  }
  peek(u, c.pending_slot, ev.pending_at_kill);  // did a guard clear it?
  kill_victim();

  std::uint32_t after[page_size / 4];
  if (::pread(fd_b.fd, after, sizeof after, 0) != static_cast<ssize_t>(sizeof after)) {
    ev.failure = std::string("pread: ") + std::strerror(errno);
    return ev;
  }
  ev.word_before = contents[0];
  ev.word_after = after[0];
  for (std::size_t i = 0; i < page_size / 4; ++i)
    if (after[i] != contents[i]) ev.changes.push_back({i * 4, contents[i], after[i]});
  ev.completed = true;
  return ev;
}

bool expect_corruption(unlock_mode unlock, remap_mode remap, const run_context& context) {
  // With the kernel's fix-up nothing is left to corrupt with.
  if (unlock != unlock_mode::glibc && context.strategy == "kernel") return false;
  switch (remap) {
    case remap_mode::raw: return true;  // no user-space guard sees a raw syscall
    case remap_mode::libc: return !context.guard_loaded;  // guarded only by librfutex-guard.so
    case remap_mode::rfutex:
      // rfutex::unmap scrubs the threads that used rfutex; a glibc-only U is
      // not among them unless librfutex-guard.so registered every thread.
      return unlock == unlock_mode::glibc && !context.guard_loaded;
  }
  return true;
}

std::optional<unlock_mode> parse_unlock(std::string_view s) {
  for (auto m : {unlock_mode::glibc, unlock_mode::rfutex, unlock_mode::rfutex_kernel,
                 unlock_mode::rfutex_guarded})
    if (s == name_of(m)) return m;
  return std::nullopt;
}

std::optional<remap_mode> parse_remap(std::string_view s) {
  for (auto m : {remap_mode::rfutex, remap_mode::libc, remap_mode::raw})
    if (s == name_of(m)) return m;
  return std::nullopt;
}

std::string_view name_of(unlock_mode m) {
  switch (m) {
    case unlock_mode::glibc: return "glibc";
    case unlock_mode::rfutex: return "rfutex";
    case unlock_mode::rfutex_kernel: return "rfutex-kernel";
    case unlock_mode::rfutex_guarded: return "rfutex-guarded";
  }
  return "?";
}

std::string_view name_of(remap_mode m) {
  switch (m) {
    case remap_mode::rfutex: return "rfutex";
    case remap_mode::libc: return "libc";
    case remap_mode::raw: return "raw";
  }
  return "?";
}

}  // namespace rfutex::tool::repro
