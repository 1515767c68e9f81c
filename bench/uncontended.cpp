// SPDX-License-Identifier: MIT
// Uncontended lock+unlock pairs under Google Benchmark, one benchmark per
// variant, with a second thread alive. Each finished run is printed as
//   uncontended <variant> <real ns per pair> <iterations>
// (aggregates are left to `rfutex bench`, which also merges the musl driver's
// runs measured the same way).
#include <benchmark/benchmark.h>

#include <cstdio>
#include <string>
#include <vector>

#include "driver.hpp"
#include "locks.hpp"

namespace rfutex::bench {

namespace {

template <class Lock>
void bm_pair(benchmark::State& state, Lock* lock) {
  if (!process_is_multithreaded()) {
    state.SkipWithError("glibc is in single-thread mode: the idle thread is missing");
    return;
  }
  if (!lock->lock()) {
    state.SkipWithError("lock() failed");
    return;
  }
  lock->unlock();
  for (auto _ : state) {
    (void)lock->lock();
    lock->unlock();
  }
}

class line_reporter : public benchmark::BenchmarkReporter {
 public:
  bool ReportContext(const Context&) override { return true; }
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& r : runs) {
      if (r.run_type != Run::RT_Iteration) continue;
      const std::string name = r.benchmark_name();
      if (r.error_occurred) {
        std::printf("error %s %s\n", name.c_str(), r.error_message.c_str());
      } else {
        std::printf("uncontended %s %.4f %lld\n", name.c_str(), r.GetAdjustedRealTime(),
                    static_cast<long long>(r.iterations));
      }
    }
    std::fflush(stdout);
  }
};

}  // namespace

int uncontended_main(int argc, char** argv) {
  idle_thread second;

  // Each in its own cache line, alive for the whole run.
  struct alignas(64) locks {
    pthread_lock glibc_default{false, false, false};
    alignas(64) pthread_lock glibc_robust{true, false, false};
    alignas(64) pthread_lock glibc_robust_pshared{true, true, false};
    alignas(64) pthread_lock glibc_robust_pi{true, false, true};
    alignas(64) rfutex_lock rfutex_robust;
    alignas(64) rfutex_pi_lock rfutex_robust_pi;
    alignas(64) floor_lock floor;
    alignas(64) minimal_robust_lock minimal_robust;
    alignas(64) pthread_rwlock_side pthread_rwlock_read{false};
    alignas(64) pthread_rwlock_side pthread_rwlock_write{true};
    alignas(64) rfutex_shared_side rfutex_shared_read{false};
    alignas(64) rfutex_shared_side rfutex_shared_write{true};
  };
  static locks l;

  const auto add = [](const char* name, auto* lock) {
    benchmark::RegisterBenchmark(name, [lock](benchmark::State& s) {
      bm_pair(s, lock);
    })->Unit(benchmark::kNanosecond);
  };
  add("glibc_default", &l.glibc_default);
  add("glibc_robust", &l.glibc_robust);
  add("glibc_robust_pshared", &l.glibc_robust_pshared);
  add("glibc_robust_pi", &l.glibc_robust_pi);
  add("rfutex_robust", &l.rfutex_robust);
  if (parse_lock_kind("rfutex_robust_pi")) add("rfutex_robust_pi", &l.rfutex_robust_pi);
  add("floor", &l.floor);
  if (l.minimal_robust.usable()) add("minimal_robust", &l.minimal_robust);
  add("pthread_rwlock_read", &l.pthread_rwlock_read);
  add("pthread_rwlock_write", &l.pthread_rwlock_write);
  add("rfutex_shared_read", &l.rfutex_shared_read);
  add("rfutex_shared_write", &l.rfutex_shared_write);

  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
  line_reporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  return 0;
}

}  // namespace rfutex::bench
