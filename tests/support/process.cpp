// SPDX-License-Identifier: MIT
#include "process.hpp"

#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <atomic>
#include <cerrno>
#include <climits>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <system_error>

#include "linux/futex.hpp"

namespace rfutex::test {

child_process::~child_process() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
}

void child_process::throw_errno(const char* what) {
  throw std::system_error(errno, std::generic_category(), what);
}

int child_process::wait() {
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0)
    if (errno != EINTR) throw_errno("waitpid");
  pid_ = 0;
  return status;
}

void child_process::kill(int signal) { ::kill(pid_, signal); }

void die_with_parent() {
  if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0)
    throw std::system_error(errno, std::generic_category(), "prctl(PR_SET_PDEATHSIG)");
}

bool exited_with(int status, int code) { return WIFEXITED(status) && WEXITSTATUS(status) == code; }
bool killed_by(int status, int signal) { return WIFSIGNALED(status) && WTERMSIG(status) == signal; }

std::string describe_status(int status) {
  if (WIFEXITED(status)) return "exited with " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return std::string("killed by ") + strsignal(WTERMSIG(status));
  return "status " + std::to_string(status);
}

void event::set() noexcept {
  // release: what the setter did before happens-before what the waiter does after.
  std::atomic_ref<std::uint32_t>(value_).store(1, std::memory_order_release);
  sys::futex_wake(&value_, INT_MAX);
}

void event::wait() noexcept {
  // acquire: pairs with set().
  while (std::atomic_ref<std::uint32_t>(value_).load(std::memory_order_acquire) == 0)
    sys::futex_wait(&value_, 0, nullptr);
}

bool event::is_set() const noexcept {
  return std::atomic_ref<std::uint32_t>(const_cast<std::uint32_t&>(value_))
             .load(std::memory_order_acquire) != 0;
}

bool blocked_in_futex_on(pid_t pid, pid_t tid, const void* word) {
  const std::string path =
      "/proc/" + std::to_string(pid) + "/task/" + std::to_string(tid) + "/syscall";
  std::ifstream in(path);
  long nr = -1;
  std::string arg0;
  if (!(in >> nr >> arg0)) return false;
  const auto address = std::stoull(arg0, nullptr, 16);
  return is_futex_syscall(nr) && address == reinterpret_cast<std::uintptr_t>(word);
}

bool is_futex_syscall(long nr) {
  return nr == SYS_futex
#ifdef SYS_futex_time64
         || nr == SYS_futex_time64
#endif
      ;
}

void wait_until_blocked_on(pid_t pid, pid_t tid, const void* word) {
  while (!blocked_in_futex_on(pid, tid, word)) sched_yield();
}

void await_blocked_on(pid_t pid, pid_t tid, const void* word, std::chrono::milliseconds bound) {
  const auto give_up = std::chrono::steady_clock::now() + bound;
  while (!blocked_in_futex_on(pid, tid, word)) {
    if (std::chrono::steady_clock::now() > give_up)
      throw std::runtime_error("thread " + std::to_string(tid) +
                               " did not go to sleep on the lock within the hang bound");
    sched_yield();
  }
}

}  // namespace rfutex::test

namespace rfutex::test {

program_result run_program(const std::string& path, const std::vector<std::string>& args,
                           const std::vector<std::pair<std::string, const char*>>& env) {
  int fds[2];
  if (::pipe(fds) != 0) throw std::system_error(errno, std::generic_category(), "pipe");
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(fds[1], 1);
    ::dup2(fds[1], 2);
    ::close(fds[0]);
    ::close(fds[1]);
    for (const auto& [name, value] : env) {
      if (value != nullptr)
        ::setenv(name.c_str(), value, 1);
      else
        ::unsetenv(name.c_str());
    }
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(path.c_str()));
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(path.c_str(), argv.data());
    std::fprintf(stderr, "exec %s: %s\n", path.c_str(), std::strerror(errno));
    ::_exit(127);
  }
  ::close(fds[1]);
  program_result r{-1, {}};
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fds[0], buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR))
    if (n > 0) r.output.append(buf, static_cast<std::size_t>(n));
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

std::string build_tree_path(const std::string& relative) {
  char exe[4096];
  const ssize_t n = ::readlink("/proc/self/exe", exe, sizeof exe - 1);
  std::string dir(exe, n > 0 ? static_cast<std::size_t>(n) : 0);
  dir = dir.substr(0, dir.rfind('/'));  // <build>/tests/<dir>
  return dir + "/../../" + relative;
}

}  // namespace rfutex::test
