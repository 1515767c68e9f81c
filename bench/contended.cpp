// SPDX-License-Identifier: MIT
// N threads, or N processes (2 by default; mode "threads4" = 4 threads),
// taking turns on one lock for a fixed time.
// The lock and a counter it protects live in a memfd mapping (MAP_SHARED) in
// both modes, so the only difference between them is who shares it. Each
// variant prints
//   contended <threads|processes> <variant> <ops per second> <ops>
// and the counter is checked against the operations counted (a lost update
// would mean broken mutual exclusion: exit status 1).
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "driver.hpp"
#include "locks.hpp"
#include "rfutex/shared_region.hpp"

namespace rfutex::bench {

namespace {

constexpr int max_workers = 8;

// The lock's `exclusive()` if it has one (the read side of a reader-writer
// lock does not exclude), else true.
template <class Lock>
bool exclusive(const Lock& lock) {
  if constexpr (requires { lock.exclusive(); })
    return lock.exclusive();
  else
    return true;
}

// Laid out in the shared mapping; every field its own cache line.
struct arena {
  alignas(64) unsigned char lock[any_lock_size];
  alignas(64) std::uint64_t counter = 0;  // protected by the lock
  alignas(64) std::atomic<int> ready{0};
  alignas(64) std::atomic<bool> go{false};
  alignas(64) std::atomic<bool> stop{false};
  alignas(64) std::uint64_t ops[max_workers] = {};
  std::uint64_t failures = 0;
};

template <class Lock>
void work(arena& a, Lock& lock, int index) {
  a.ready.fetch_add(1, std::memory_order_relaxed);
  while (!a.go.load(std::memory_order_acquire)) std::this_thread::yield();
  std::uint64_t ops = 0, failures = 0;
  const bool count = exclusive(lock);
  while (!a.stop.load(std::memory_order_relaxed)) {
    if (!lock.lock()) ++failures;
    if (count) ++a.counter;
    lock.unlock();
    ++ops;
  }
  a.ops[index] = ops;
  if (failures != 0) std::atomic_ref<std::uint64_t>(a.failures).fetch_add(failures);
}

struct result {
  double ops_per_s = 0;
  std::uint64_t ops = 0;
  bool exact = false;
};

template <class Lock>
result run(arena& a, Lock& lock, bool processes, int workers, int ms) {
  std::vector<std::thread> threads;
  std::vector<pid_t> children;
  for (int i = 0; i < workers; ++i) {
    if (processes) {
      const pid_t pid = fork();
      if (pid < 0) die("fork", errno);
      if (pid == 0) {
        work(a, lock, i);
        _exit(0);
      }
      children.push_back(pid);
    } else {
      threads.emplace_back([&a, &lock, i] { work(a, lock, i); });
    }
  }
  while (a.ready.load(std::memory_order_relaxed) < workers)
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  const auto start = std::chrono::steady_clock::now();
  a.go.store(true, std::memory_order_release);
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  a.stop.store(true, std::memory_order_relaxed);
  const auto end = std::chrono::steady_clock::now();
  for (auto& t : threads) t.join();
  bool children_ok = true;
  for (const pid_t pid : children) {
    int status = 0;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
      children_ok = false;
  }
  result r;
  for (const std::uint64_t o : a.ops) r.ops += o;
  r.ops_per_s = static_cast<double>(r.ops) / std::chrono::duration<double>(end - start).count();
  r.exact = children_ok && a.failures == 0 && (!exclusive(lock) || a.counter == r.ops);
  return r;
}

int usage() {
  std::fprintf(stderr,
               "usage: rfutex-bench-native contended threads[N]|processes[N] <ms> <variant>...\n"
               "       (N workers, 2 to 8; default 2)\n");
  return 2;
}

}  // namespace

int contended_main(args a) {
  if (a.size() < 3) return usage();
  const std::string_view mode = a[0];
  const bool processes = mode.starts_with("processes");
  if (!processes && !mode.starts_with("threads")) return usage();
  const std::string_view count = mode.substr(processes ? 9 : 7);
  const int workers = count.empty() ? 2 : std::atoi(std::string(count).c_str());
  if (workers < 2 || workers > max_workers) return usage();
  const int ms = std::atoi(a[1]);
  if (ms <= 0) return usage();

  int status = 0;
  for (const char* name : a.subspan(2)) {
    const auto kind = parse_lock_kind(name);
    if (!kind || *kind == lock_kind::floor || *kind == lock_kind::minimal_robust) {
      std::fprintf(stderr, "rfutex-bench-native contended: no contended variant '%s'\n", name);
      return 2;
    }
    auto region = shared_region::create_memfd(sizeof(arena), "rfutex-bench");
    arena& ar = *region.construct<arena>();
    // Between processes every pthread mutex must be process-shared.
    const result r = with_lock(*kind, processes, ar.lock,
                               [&](auto& lock) { return run(ar, lock, processes, workers, ms); });
    if (!r.exact) {
      std::fprintf(stderr, "rfutex-bench-native: %s %s: counter %llu != %llu operations\n", name,
                   mode.data(), static_cast<unsigned long long>(ar.counter),
                   static_cast<unsigned long long>(r.ops));
      status = 1;
      continue;
    }
    std::printf("contended %s %s %.1f %llu\n", mode.data(), name, r.ops_per_s,
                static_cast<unsigned long long>(r.ops));
    std::fflush(stdout);
  }
  return status;
}

}  // namespace rfutex::bench
