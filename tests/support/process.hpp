// SPDX-License-Identifier: MIT
// Test helpers for multi-process tests: forked children, memory shared with
// them, and a cross-process event.
#pragma once

#include <sys/mman.h>
#include <sys/types.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <new>
#include <string>
#include <utility>
#include <vector>

namespace rfutex::test {

// A forked child running `body`; its exit status is body's return value (98
// if it threw). The destructor kills and reaps a child still running, so a
// failing test leaves no process behind.
class child_process {
 public:
  template <class F>
  static child_process fork(F&& body) {
    std::fflush(nullptr);
    const pid_t pid = ::fork();
    if (pid < 0) throw_errno("fork");
    if (pid == 0) {
      int code = 98;
      try {
        code = body();
      } catch (const std::exception& e) {
        std::fprintf(stderr, "child %d threw: %s\n", static_cast<int>(::getpid()), e.what());
      } catch (...) {
      }
      ::_exit(code);
    }
    return child_process(pid);
  }

  child_process(child_process&& o) noexcept : pid_(std::exchange(o.pid_, 0)) {}
  child_process& operator=(child_process&&) = delete;
  ~child_process();

  pid_t pid() const noexcept { return pid_; }
  // Waits for the child to end; returns the raw wait status.
  int wait();
  void kill(int signal = 9);

 private:
  explicit child_process(pid_t pid) : pid_(pid) {}
  [[noreturn]] static void throw_errno(const char* what);
  pid_t pid_;
};

// Makes the calling (forked) process receive SIGKILL when the thread that
// forked it ends, so a test that dies on a hang bound leaves no child behind.
void die_with_parent();

bool exited_with(int status, int code);
bool killed_by(int status, int signal);
std::string describe_status(int status);

// One T in an anonymous MAP_SHARED mapping, visible to forked children.
template <class T>
class shared {
 public:
  template <class... Args>
  explicit shared(Args&&... args) {
    void* p = ::mmap(nullptr, sizeof(T), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
    ptr_ = ::new (p) T(std::forward<Args>(args)...);
  }
  shared(const shared&) = delete;
  shared& operator=(const shared&) = delete;
  ~shared() {
    ptr_->~T();
    ::munmap(ptr_, sizeof(T));
  }
  T* operator->() const noexcept { return ptr_; }
  T& operator*() const noexcept { return *ptr_; }
  T* get() const noexcept { return ptr_; }

 private:
  T* ptr_;
};

// A one-shot event that works across processes (a process-shared futex).
class event {
 public:
  void set() noexcept;
  void wait() noexcept;
  bool is_set() const noexcept;

 private:
  std::uint32_t value_ = 0;
};

struct program_result {
  int exit_code;       // -1 when killed by a signal
  std::string output;  // stdout and stderr together
};

// Runs `path` with `args` (no shell), setting (value) or removing (nullptr)
// the given environment variables in the child only.
program_result run_program(const std::string& path, const std::vector<std::string>& args,
                           const std::vector<std::pair<std::string, const char*>>& env = {});

// A path inside the build tree, found from this test binary's location
// (<build>/tests/<dir>/<binary>), so it also works in the VM's copy of the tree.
std::string build_tree_path(const std::string& relative);

// Blocks until thread `tid` of process `pid` sleeps in futex() on `word`
// (read from /proc/<pid>/task/<tid>/syscall). Deterministic: no timing.
void wait_until_blocked_on(pid_t pid, pid_t tid, const void* word);
// One reading of /proc/<pid>/task/<tid>/syscall: true when the thread is
// stopped or asleep in futex() on `word` right now (a woken thread reads as
// running, never as blocked).
bool blocked_in_futex_on(pid_t pid, pid_t tid, const void* word);

// True for the futex system call's number: futex, or futex_time64 (what
// 32-bit builds call, for 64-bit timespecs).
bool is_futex_syscall(long nr);

// As wait_until_blocked_on(), throwing std::runtime_error when the thread
// has not gone to sleep within `bound` (a hang bound: it ended or never
// blocked), so a regression fails fast.
void await_blocked_on(pid_t pid, pid_t tid, const void* word, std::chrono::milliseconds bound);

}  // namespace rfutex::test
