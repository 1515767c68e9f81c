// SPDX-License-Identifier: MIT
// Runs part of a forked child one instruction at a time, so a test can kill
// it at an exact point of a real lock operation — no test hooks in the
// library, the shipping code path is the one that is stopped.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <chrono>
#include <functional>
#include <vector>

namespace rfutex::test {

struct registers {
  std::uintptr_t ip;
  std::uintptr_t syscall_nr;  // orig_rax / orig_eax: the number, at a syscall stop
  std::uintptr_t arg0;        // 1st syscall argument: rdi / ebx (the futex address)
  std::uintptr_t arg1;        // 2nd syscall argument: rsi / ecx (the futex op)
};

class stepped_child {
 public:
  // Forks; the child runs `setup`, stops itself, and (once stepped) runs
  // `traced`, then sets `done` and exits 0. Returns with the child stopped
  // just before `traced`.
  stepped_child(const std::function<void()>& setup, const std::function<void()>& traced);
  stepped_child(const stepped_child&) = delete;
  stepped_child& operator=(const stepped_child&) = delete;
  ~stepped_child();  // kills and reaps

  // Executes one instruction. False once the child has finished `traced`
  // (it then runs to its exit untraced) or has exited.
  bool step();
  // Resumes until the next syscall entry or exit (PTRACE_SYSCALL). False as step().
  bool to_next_syscall_stop();
  // The same in two halves, for a syscall that blocks: let_run_to_next_syscall_stop()
  // resumes and returns at once (the child may then sleep in the kernel);
  // await_stop() waits for the stop, throwing std::runtime_error when none
  // comes within `bound` (a hang bound, not a timing assumption).
  void let_run_to_next_syscall_stop();
  bool await_stop(std::chrono::milliseconds bound);
  // True when the next instruction enters the kernel (x86: syscall,
  // sysenter, int 0x80; arm64: svc): stepping it may block.
  bool at_syscall_instruction() const;

  registers regs() const;
  std::uintptr_t peek(std::uintptr_t address) const;  // a word of the child's memory

  // SIGKILL and reap; returns the wait status.
  int kill();
  pid_t pid() const noexcept { return pid_; }
  long steps() const noexcept { return steps_; }

 private:
  bool resume(int request);
  bool note_stop(int status);
  std::uint8_t peek_byte(std::uintptr_t address) const;
  pid_t pid_ = 0;
  bool exited_ = false;
  long steps_ = 0;
  std::uint32_t* done_ = nullptr;  // shared with the child
};

// The instants (instruction counts 0..total) a kill-at-every-instruction
// test kills at: every one while stepping to all of them stays within a
// budget of single steps (release builds), else an even sample within it
// (sanitizer builds, with thousands of instructions), 0 and total always
// included.
std::vector<long> kill_instants(long total);

}  // namespace rfutex::test
