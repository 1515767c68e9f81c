// SPDX-License-Identifier: MIT
// The alternative the unmap guard does not use: finding a process's threads
// through /proc/self/task and get_robust_list(tid) on every unmap, instead of
// a registry. Measured so the choice is on record (docs/bench.md):
//   rfutex-bench-native proc-scan <threads> <samples>
//   -> "proc-scan <threads> <median ns per scan>"
// The scan does what the guard's scrub would: read each thread's
// list_op_pending and test it against the range.
#include <dirent.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <vector>

#include "driver.hpp"
#include "linux/robust_list.hpp"

namespace rfutex::bench {

namespace {

// Returns how many threads' pending pointers fall into [begin, end).
int scan(std::uintptr_t begin, std::uintptr_t end) {
  DIR* dir = opendir("/proc/self/task");
  if (dir == nullptr) return -1;
  int hits = 0;
  while (const dirent* e = readdir(dir)) {
    const long tid = std::strtol(e->d_name, nullptr, 10);
    if (tid <= 0) continue;
    sys::robust_list_head* head = nullptr;
    std::size_t len = 0;
    if (sys::get_robust_list(static_cast<pid_t>(tid), &head, &len) != 0 || head == nullptr) continue;
    const auto pending = reinterpret_cast<std::uintptr_t>(
        __atomic_load_n(&head->list_op_pending, __ATOMIC_RELAXED));
    const std::uintptr_t word = (pending & ~std::uintptr_t{1}) + static_cast<std::uintptr_t>(head->futex_offset);
    if (pending != 0 && word >= begin && word < end) ++hits;
  }
  closedir(dir);
  return hits;
}

}  // namespace

int proc_scan_main(args a) {
  if (a.size() != 2) {
    std::fprintf(stderr, "usage: rfutex-bench-native proc-scan <threads> <samples>\n");
    return 2;
  }
  const int nthreads = std::atoi(a[0]);
  const int samples = std::max(1, std::atoi(a[1]));
  std::mutex gate;
  std::condition_variable changed;
  bool release = false;
  std::vector<std::thread> threads;
  for (int i = 0; i < nthreads; ++i)
    threads.emplace_back([&] {
      std::unique_lock lock(gate);
      changed.wait(lock, [&] { return release; });
    });
  std::vector<double> ns;
  static char page[4096];
  for (int i = 0; i < samples; ++i) {
    const auto start = std::chrono::steady_clock::now();
    if (scan(reinterpret_cast<std::uintptr_t>(page), reinterpret_cast<std::uintptr_t>(page) + sizeof page) < 0)
      return 1;
    ns.push_back(std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start).count());
  }
  {
    std::lock_guard lock(gate);
    release = true;
  }
  changed.notify_all();
  for (auto& t : threads) t.join();
  std::sort(ns.begin(), ns.end());
  std::printf("proc-scan %d %.1f\n", nthreads, ns[ns.size() / 2]);
  return 0;
}

}  // namespace rfutex::bench
