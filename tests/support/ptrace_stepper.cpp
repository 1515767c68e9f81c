// SPDX-License-Identifier: MIT
#include "ptrace_stepper.hpp"

#include <elf.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <system_error>

namespace rfutex::test {

namespace {

[[noreturn]] void fail(const char* what) {
  throw std::system_error(errno, std::generic_category(), what);
}

long ptrace_call(int request, pid_t pid, std::uintptr_t addr, std::uintptr_t data) {
  return ::ptrace(static_cast<enum __ptrace_request>(request), pid, addr, data);
}

}  // namespace

stepped_child::stepped_child(const std::function<void()>& setup,
                             const std::function<void()>& traced) {
  void* shared = ::mmap(nullptr, sizeof(std::uint32_t), PROT_READ | PROT_WRITE,
                        MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (shared == MAP_FAILED) fail("mmap");
  done_ = static_cast<std::uint32_t*>(shared);
  *done_ = 0;
  std::fflush(nullptr);
  pid_ = ::fork();
  if (pid_ < 0) fail("fork");
  if (pid_ == 0) {
    int code = 0;
    try {
      setup();
      if (::ptrace(PTRACE_TRACEME, 0, nullptr, nullptr) != 0) ::_exit(97);
      ::raise(SIGSTOP);
      traced();
      // release: the parent reads this flag after each step.
      std::atomic_ref<std::uint32_t>(*done_).store(1, std::memory_order_release);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "stepped child threw: %s\n", e.what());
      code = 98;
    }
    ::_exit(code);
  }
  int status = 0;
  if (::waitpid(pid_, &status, 0) != pid_ || !WIFSTOPPED(status)) {
    exited_ = true;
    throw std::runtime_error("stepped child did not stop before its traced part");
  }
}

stepped_child::~stepped_child() {
  if (!exited_) kill();
  ::munmap(done_, sizeof(std::uint32_t));
}

bool stepped_child::resume(int request) {
  if (exited_) return false;
  if (std::atomic_ref<std::uint32_t>(*done_).load(std::memory_order_acquire) != 0) return false;
  if (ptrace_call(request, pid_, 0, 0) != 0) fail("ptrace resume");
  int status = 0;
  if (::waitpid(pid_, &status, 0) != pid_) fail("waitpid");
  return note_stop(status);
}

bool stepped_child::note_stop(int status) {
  ++steps_;
  if (WIFEXITED(status) || WIFSIGNALED(status)) {
    exited_ = true;
    return false;
  }
  return std::atomic_ref<std::uint32_t>(*done_).load(std::memory_order_acquire) == 0;
}

void stepped_child::let_run_to_next_syscall_stop() {
  if (exited_) throw std::runtime_error("stepped child already exited");
  if (ptrace_call(PTRACE_SYSCALL, pid_, 0, 0) != 0) fail("ptrace resume");
}

bool stepped_child::await_stop(std::chrono::milliseconds bound) {
  const auto give_up = std::chrono::steady_clock::now() + bound;
  for (;;) {
    int status = 0;
    const pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) return note_stop(status);
    if (r < 0 && errno != EINTR) fail("waitpid");
    if (std::chrono::steady_clock::now() > give_up)
      throw std::runtime_error("stepped child did not stop within the hang bound");
    const timespec pause{0, 50'000};  // polling interval only
    ::nanosleep(&pause, nullptr);
  }
}

std::uint8_t stepped_child::peek_byte(std::uintptr_t address) const {
  const std::uintptr_t aligned = address & ~(sizeof(long) - 1);
  return static_cast<std::uint8_t>(peek(aligned) >> (8 * (address - aligned)));
}

bool stepped_child::at_syscall_instruction() const {
  const std::uintptr_t ip = regs().ip;
#if defined(__aarch64__)
  // A64 instructions are 32-bit little-endian words; `svc #imm16` is
  // 0xd4000001 with the immediate in bits 5-20.
  std::uint32_t insn = 0;
  for (unsigned i = 0; i < 4; ++i) insn |= std::uint32_t{peek_byte(ip + i)} << (8 * i);
  return (insn & 0xffe0001fu) == 0xd4000001u;
#else
  const std::uint8_t b0 = peek_byte(ip);
  const std::uint8_t b1 = peek_byte(ip + 1);
  // syscall (0f 05), sysenter (0f 34), int 0x80 (cd 80).
  return (b0 == 0x0f && (b1 == 0x05 || b1 == 0x34)) || (b0 == 0xcd && b1 == 0x80);
#endif
}

bool stepped_child::step() { return resume(PTRACE_SINGLESTEP); }
bool stepped_child::to_next_syscall_stop() { return resume(PTRACE_SYSCALL); }

registers stepped_child::regs() const {
  user_regs_struct r{};
#if defined(__aarch64__)
  // arm64 has no PTRACE_GETREGS: the general registers are the NT_PRSTATUS set.
  iovec io{&r, sizeof r};
  if (ptrace_call(PTRACE_GETREGSET, pid_, NT_PRSTATUS, reinterpret_cast<std::uintptr_t>(&io)) != 0)
    fail("PTRACE_GETREGSET");
  // x8 carries the syscall number (the kernel does not change it); x0 and x1
  // the first two arguments (x0 receives the result: valid at the entry stop).
  return {static_cast<std::uintptr_t>(r.pc), static_cast<std::uintptr_t>(r.regs[8]),
          static_cast<std::uintptr_t>(r.regs[0]), static_cast<std::uintptr_t>(r.regs[1])};
#else
  if (ptrace_call(PTRACE_GETREGS, pid_, 0, reinterpret_cast<std::uintptr_t>(&r)) != 0)
    fail("PTRACE_GETREGS");
#if defined(__x86_64__)
  return {r.rip, r.orig_rax, r.rdi, r.rsi};
#else
  return {static_cast<std::uintptr_t>(r.eip), static_cast<std::uintptr_t>(r.orig_eax),
          static_cast<std::uintptr_t>(r.ebx), static_cast<std::uintptr_t>(r.ecx)};
#endif
#endif
}

std::uintptr_t stepped_child::peek(std::uintptr_t address) const {
  errno = 0;
  const long v = ptrace_call(PTRACE_PEEKDATA, pid_, address, 0);
  if (errno != 0) fail("PTRACE_PEEKDATA");
  return static_cast<std::uintptr_t>(v);
}

int stepped_child::kill() {
  int status = 0;
  if (exited_) return status;
  ::kill(pid_, SIGKILL);
  while (::waitpid(pid_, &status, 0) == pid_ && !WIFEXITED(status) && !WIFSIGNALED(status)) {
  }
  exited_ = true;
  return status;
}

std::vector<long> kill_instants(long total) {
  // Killing at instant k costs k single steps (the child is stepped from the
  // start each time), so the whole test costs the sum of its instants. A
  // budget keeps that sum bounded: sanitizer builds run thousands of
  // instructions where the release build runs a few hundred, and a ptrace
  // step costs tens of microseconds.
  constexpr long step_budget = 150'000;
  constexpr long fewest = 40;
  if (total <= 0) return {0};
  // total + 1 (every instant) whenever their sum, total*(total+1)/2, fits.
  const long count = std::max(fewest, std::min(total + 1, 2 * step_budget / total));
  std::vector<long> at;
  for (long i = 0; i < count; ++i) {
    const long k = i * total / (count - 1);  // 0 and total included
    if (at.empty() || at.back() != k) at.push_back(k);
  }
  return at;
}

}  // namespace rfutex::test
