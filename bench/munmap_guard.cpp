// SPDX-License-Identifier: MIT
// What the unmap guard adds to munmap. `threads` threads each take and release
// an rfutex mutex once (which registers them with the guard) and stay alive,
// blocked; so does the main thread, which then unmaps fresh one-page mappings,
// alternating plain munmap() and rfutex::unmap(), timing each call. Prints
//   munmap <threads> <plain ns> <guarded ns> <scrub hot ns> <guarded threads> <scrub cold ns>
// (medians). The scrub (rfutex::scrub_pending, the part of rfutex::unmap that
// is not munmap) is also timed alone: "cold" right after a plain munmap, as it
// runs inside rfutex::unmap; "hot" averaged over a batch of back-to-back calls.
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <vector>

#include "driver.hpp"
#include "locks.hpp"
#include "rfutex/robust_mutex.hpp"
#include "rfutex/unmap.hpp"

namespace rfutex::bench {

namespace {

using clock_type = std::chrono::steady_clock;

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

void* fresh_page(std::size_t page) {
  void* p = mmap(nullptr, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) die("mmap", errno);
  static_cast<volatile unsigned char*>(p)[0] = 1;  // populated, as a page holding a lock is
  return p;
}

double ns_since(clock_type::time_point start) {
  return std::chrono::duration<double, std::nano>(clock_type::now() - start).count();
}

int usage() {
  std::fprintf(stderr, "usage: rfutex-bench-native munmap <threads> <samples>\n");
  return 2;
}

}  // namespace

int munmap_main(args a) {
  if (a.size() != 2) return usage();
  const int nthreads = std::atoi(a[0]);
  const int samples = std::atoi(a[1]);
  if (nthreads < 0 || samples <= 0) return usage();

  static robust_mutex m;
  std::mutex gate;
  std::condition_variable changed;
  int registered = 0;
  bool release = false;
  std::vector<std::thread> threads;
  threads.reserve(static_cast<std::size_t>(nthreads));
  for (int i = 0; i < nthreads; ++i)
    threads.emplace_back([&] {
      (void)m.lock();
      m.unlock();
      std::unique_lock lock(gate);
      ++registered;
      changed.notify_all();
      changed.wait(lock, [&] { return release; });
    });
  (void)m.lock();
  m.unlock();
  {
    std::unique_lock lock(gate);
    changed.wait(lock, [&] { return registered == nthreads; });
  }
  const std::size_t known = guarded_thread_count();
  int status = 0;
  if (known != static_cast<std::size_t>(nthreads) + 1) {
    std::fprintf(stderr,
                 "rfutex-bench-native munmap: the guard knows %zu threads, expected %d "
                 "(the workers and this one)\n",
                 known, nthreads + 1);
    status = 1;
  } else {
    const auto page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
    std::vector<double> plain, guarded, cold;
    plain.reserve(static_cast<std::size_t>(samples));
    guarded.reserve(static_cast<std::size_t>(samples));
    cold.reserve(static_cast<std::size_t>(samples));
    for (int i = 0; i < samples; ++i) {
      // Alternate which goes first, so that drift and cache effects cancel.
      for (int k = 0; k < 2; ++k) {
        const bool guard = (i + k) % 2 == 0;
        void* p = fresh_page(page);
        const auto start = clock_type::now();
        if (guard) {
          unmap(p, page);
        } else if (munmap(p, page) != 0) {
          die("munmap", errno);
        }
        (guard ? guarded : plain).push_back(ns_since(start));
      }
    }
    // The scrub alone, in the state it runs in inside rfutex::unmap: after a
    // munmap (here just after, there just before). It reads the registry and
    // each thread's head, never the range, so the range may be gone.
    for (int i = 0; i < samples; ++i) {
      void* q = fresh_page(page);
      if (munmap(q, page) != 0) die("munmap", errno);
      const auto start = clock_type::now();
      (void)scrub_pending(q, page);
      cold.push_back(ns_since(start));
    }
    // The scrub alone is too short to time one call at a time.
    void* p = fresh_page(page);
    constexpr int batch = 20000;
    std::vector<double> scrub;
    for (int r = 0; r < 5; ++r) {
      const auto start = clock_type::now();
      for (int i = 0; i < batch; ++i) (void)scrub_pending(p, page);
      scrub.push_back(ns_since(start) / batch);
    }
    unmap(p, page);
    std::printf("munmap %d %.1f %.1f %.1f %zu %.1f\n", nthreads, median(plain), median(guarded),
                median(scrub), known, median(cold));
  }
  {
    std::lock_guard lock(gate);
    release = true;
  }
  changed.notify_all();
  for (auto& t : threads) t.join();
  return status;
}

}  // namespace rfutex::bench
