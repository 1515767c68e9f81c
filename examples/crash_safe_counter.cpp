// SPDX-License-Identifier: MIT
// Several processes increment a counter in shared memory under an rfutex
// robust mutex; one of them is killed while holding it. The survivors
// recover the mutex, repair the data, and finish with the exact count.
#include <rfutex/robust_mutex.hpp>
#include <rfutex/shared_region.hpp>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>

struct shared_state {
  rfutex::robust_mutex lock;
  long counter;
  long in_progress;  // 1 while an increment is half done
};

int main() {
  auto region = rfutex::shared_region::create_memfd(4096);
  auto& s = *region.construct<shared_state>();
  constexpr int workers = 3, rounds = 100000;

  // A victim takes the lock, starts an update and dies in the middle of it.
  const pid_t victim = fork();
  if (victim == 0) {
    (void)s.lock.lock();
    s.in_progress = 1;
    raise(SIGKILL);
  }
  waitpid(victim, nullptr, 0);

  for (int w = 0; w < workers; ++w) {
    if (fork() == 0) {
      for (int i = 0; i < rounds; ++i) {
        if (s.lock.lock() == rfutex::lock_status::owner_died) {
          std::printf("worker %d: owner died mid-update; repairing\n", w);
          std::fflush(stdout);  // _exit() below does not flush
          s.in_progress = 0;  // the half-done update never counted
          s.lock.make_consistent();
        }
        ++s.counter;
        s.lock.unlock();
      }
      _exit(0);
    }
  }
  for (int w = 0; w < workers; ++w) wait(nullptr);
  std::printf("counter = %ld (expected %d)\n", s.counter, workers * rounds);
  return s.counter == long{workers} * rounds ? 0 : 1;
}
