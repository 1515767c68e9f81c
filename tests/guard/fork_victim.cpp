// SPDX-License-Identifier: MIT
// The victim of fork_race_test, an unmodified glibc program (it never calls
// rfutex): the process it starts as forks (once, or twice the way daemon()
// does) and the last child does the work. Its first thread U — the thread
// that forked — locks a robust process-shared pthread mutex at the start of a
// shared file page and unlocks it while the tracer single-steps it; its
// second thread H, when told, unmaps the page and maps a second file there
// with plain libc calls.
//   rfutex_fork_victim <control fd> <file A fd> <file B fd> fork|daemon
#include <dirent.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/futex.h>

#include <atomic>
#include <cerrno>
#include <climits>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "fork_race.hpp"
#include "linux/robust_list.hpp"

extern "C" {
// Defined by librfutex-guard.so when it is loaded.
__attribute__((weak)) std::size_t rfutex_guard_registered_threads() noexcept;
}

namespace {

using rfutex::test::fork_race_control;

std::atomic_ref<std::uint32_t> flag(std::uint32_t& f) { return std::atomic_ref<std::uint32_t>(f); }

void raise_flag(std::uint32_t& f) {
  // release: what the victim wrote into the block before is visible with the flag.
  flag(f).store(1, std::memory_order_release);
  ::syscall(SYS_futex, &f, FUTEX_WAKE, INT_MAX, nullptr, nullptr, 0);
}

void wait_flag(std::uint32_t& f) {
  // acquire: pairs with the tracer's release store of the flag.
  while (flag(f).load(std::memory_order_acquire) == 0)
    ::syscall(SYS_futex, &f, FUTEX_WAIT, 0, nullptr, nullptr, 0);
}

std::uint32_t count_threads() {
  DIR* d = ::opendir("/proc/self/task");
  if (d == nullptr) return 0;
  std::uint32_t n = 0;
  while (const dirent* e = ::readdir(d))
    if (e->d_name[0] != '.') ++n;
  ::closedir(d);
  return n;
}

[[noreturn]] void fail_setup(fork_race_control& c, int error) {
  c.setup_errno = error != 0 ? error : EINVAL;
  raise_flag(c.ready);
  ::_exit(3);
}

[[noreturn]] void run_child(fork_race_control& c, int fd_a, int fd_b) {
  void* page = ::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd_a, 0);
  if (page == MAP_FAILED) fail_setup(c, errno);
  auto* m = static_cast<pthread_mutex_t*>(page);
  pthread_mutexattr_t a;
  pthread_mutexattr_init(&a);
  pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
  pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
  pthread_mutex_init(m, &a);
  static pthread_mutex_t warm_up;
  pthread_mutex_init(&warm_up, &a);
  for (int i = 0; i < 2; ++i) {  // the traced unlock runs the steady-state path
    pthread_mutex_lock(&warm_up);
    pthread_mutex_unlock(&warm_up);
  }

  std::atomic<bool> h_running{false};
  std::thread h([&] {
    h_running = true;
    h_running.notify_one();
    wait_flag(c.go_remap);
    if (::munmap(page, 4096) != 0 ||
        ::mmap(page, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd_b, 0) == MAP_FAILED)
      c.remap_errno = errno;
    raise_flag(c.remap_done);
    for (;;) ::pause();
  });
  h_running.wait(false);

  rfutex::sys::robust_list_head* head = nullptr;
  std::size_t len = 0;
  rfutex::sys::get_robust_list(0, &head, &len);
  c.u_tid = static_cast<std::int32_t>(rfutex::sys::gettid());
  c.pending_slot = reinterpret_cast<std::uintptr_t>(&head->list_op_pending);
  c.threads = count_threads();
  c.registered = rfutex_guard_registered_threads != nullptr
                     ? static_cast<std::uint32_t>(rfutex_guard_registered_threads())
                     : 0;
  pthread_mutex_lock(m);
  raise_flag(c.ready);
  // Spin in user space: the tracer stops U here, then lets it go.
  while (flag(c.go_unlock).load(std::memory_order_acquire) == 0) {
#if defined(__x86_64__) || defined(__i386__)
    asm volatile("pause");
#endif
  }
  pthread_mutex_unlock(m);
  for (;;) ::pause();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5) return 2;
  const int fd_control = std::atoi(argv[1]), fd_a = std::atoi(argv[2]), fd_b = std::atoi(argv[3]);
  const bool daemon_style = std::strcmp(argv[4], "daemon") == 0;
  if (!daemon_style && std::strcmp(argv[4], "fork") != 0) return 2;
  void* cp = ::mmap(nullptr, sizeof(fork_race_control), PROT_READ | PROT_WRITE, MAP_SHARED,
                    fd_control, 0);
  if (cp == MAP_FAILED) return 2;
  auto& c = *static_cast<fork_race_control*>(cp);

  // The parent is threaded too: its threads are not the child's.
  std::thread parent_thread([] { ::pause(); });
  parent_thread.detach();

  const pid_t child = ::fork();
  if (child < 0) return 4;
  if (child > 0) {
    int status = 0;  // fork: the tracer kills the child; daemon: the middle one exits
    ::waitpid(child, &status, 0);
    return 0;
  }
  if (daemon_style) {
    ::setsid();
    const pid_t grandchild = ::fork();
    if (grandchild < 0) ::_exit(4);
    if (grandchild > 0) ::_exit(0);
  }
  run_child(c, fd_a, fd_b);
}
