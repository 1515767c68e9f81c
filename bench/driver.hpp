// SPDX-License-Identifier: MIT
// rfutex-bench-native: the measurements `rfutex bench` runs in a glibc
// process (glibc's mutexes, rfutex, the floor). One mode per invocation; each
// prints result lines "<kind> <name> <value>..." on stdout for the command to
// parse, and diagnostics on stderr. See docs/bench.md.
#pragma once

#include <condition_variable>
#include <mutex>
#include <span>
#include <thread>

namespace rfutex::bench {

using args = std::span<char* const>;

int uncontended_main(int argc, char** argv);  // Google Benchmark, argv as for it
int contended_main(args a);                   // threads|processes <ms> <variant>...
int munmap_main(args a);                      // <threads> <samples>
int proc_scan_main(args a);                   // <threads> <samples>

// A second thread, alive and blocked for as long as this object lives, so
// that glibc does not take its single-thread shortcuts (DESIGN.md §4).
class idle_thread {
 public:
  idle_thread()
      : thread_([this] {
          std::unique_lock lock(mutex_);
          wake_.wait(lock, [this] { return done_; });
        }) {}
  idle_thread(const idle_thread&) = delete;
  idle_thread& operator=(const idle_thread&) = delete;
  ~idle_thread() {
    {
      std::lock_guard lock(mutex_);
      done_ = true;
    }
    wake_.notify_one();
    thread_.join();
  }

 private:
  std::mutex mutex_;
  std::condition_variable wake_;
  bool done_ = false;
  std::thread thread_;  // last: starts once the members above exist
};

// False when glibc would take its single-thread shortcuts right now.
bool process_is_multithreaded() noexcept;

}  // namespace rfutex::bench
