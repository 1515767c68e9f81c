// SPDX-License-Identifier: MIT
// What rfutex bench measures, where it comes from, and what a run collected.
#pragma once

#include <cstddef>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "options.hpp"
#include "process.hpp"

namespace rfutex::tool::bench {

// The uncontended variants, in report order. `source` says which driver
// measures it and under which name.
enum class source : unsigned char { native, musl };

struct variant {
  const char* name;
  source from;
  const char* driver_name;  // the driver's name for it
  const char* description;
};

inline constexpr variant uncontended_variants[] = {
    {"glibc_default", source::native, "glibc_default", "pthread_mutex_t, default attributes"},
    {"glibc_robust", source::native, "glibc_robust", "PTHREAD_MUTEX_ROBUST"},
    {"glibc_robust_pshared", source::native, "glibc_robust_pshared",
     "PTHREAD_MUTEX_ROBUST + PTHREAD_PROCESS_SHARED"},
    {"glibc_robust_pi", source::native, "glibc_robust_pi",
     "PTHREAD_MUTEX_ROBUST + PTHREAD_PRIO_INHERIT"},
    {"musl_robust", source::musl, "robust_pshared",
     "musl PTHREAD_MUTEX_ROBUST + PTHREAD_PROCESS_SHARED (static binary)"},
    {"rfutex_robust", source::native, "rfutex_robust", "rfutex::robust_mutex"},
    {"rfutex_robust_pi", source::native, "rfutex_robust_pi",
     "rfutex::robust_pi_mutex (where this build has it)"},
    {"floor", source::native, "floor", "lock cmpxchg to lock + lock cmpxchg to unlock"},
    // The bound rfutex_robust is measured against.
    {"minimal_robust", source::native, "minimal_robust",
     "rfutex's guarded protocol alone, inline, for glibc's x86_64 list: a bound, not a lock"},
    {"pthread_rwlock_read", source::native, "pthread_rwlock_read",
     "pthread_rwlock_t (PTHREAD_PROCESS_SHARED, not robust: no robust one exists), rdlock+unlock"},
    {"rfutex_shared_read", source::native, "rfutex_shared_read",
     "rfutex::robust_shared_mutex, lock_shared+unlock_shared"},
    {"pthread_rwlock_write", source::native, "pthread_rwlock_write",
     "pthread_rwlock_t (PTHREAD_PROCESS_SHARED), wrlock+unlock"},
    {"rfutex_shared_write", source::native, "rfutex_shared_write",
     "rfutex::robust_shared_mutex, lock+unlock"},
};

struct contended_variant {
  const char* name;
  source from;
  const char* driver_name;
  bool threads, processes;  // measured in that mode
  bool pshared_in_threads;  // process-shared futex operations even between threads
};

// Between processes every variant is process-shared.
inline constexpr contended_variant contended_variants[] = {
    {"glibc_default", source::native, "glibc_default", true, true, false},
    {"glibc_robust", source::native, "glibc_robust", true, false, false},  // private: threads only
    {"glibc_robust_pshared", source::native, "glibc_robust_pshared", true, true, true},
    {"glibc_robust_pi", source::native, "glibc_robust_pi", true, true, false},
    {"musl_robust", source::musl, "robust_pshared", true, true, true},
    {"rfutex_robust", source::native, "rfutex_robust", true, true, true},  // always shared futexes
    {"rfutex_robust_pi", source::native, "rfutex_robust_pi", true, true, true},
    // Readers overlap: what the read side costs when every thread reads.
    {"pthread_rwlock_read", source::native, "pthread_rwlock_read", true, true, true},
    {"rfutex_shared_read", source::native, "rfutex_shared_read", true, true, true},
};

// The contended modes: who shares the lock, and how many of them.
struct contended_mode {
  const char* name;  // the driver's mode argument, and the key in `results`
  bool processes;
  int workers;
};
inline constexpr contended_mode contended_modes[] = {
    {"threads", false, 2}, {"processes", true, 2}, {"threads4", false, 4}, {"processes4", true, 4}};

inline constexpr int munmap_thread_counts[] = {2, 8, 64};

struct results {
  // Context.
  std::string kernel, machine, strategy = "unknown", best_strategy = "unknown";
  std::string glibc, musl;
  long cpus = 0;
  double load_before = -1, load_after = -1;  // 1-minute load average
  options opt;
  // name -> samples
  std::map<std::string, std::vector<double>> uncontended_ns;
  std::map<std::string, double> instructions;
  // mode -> name -> samples
  std::map<std::string, std::map<std::string, std::vector<double>>> contended;
  // The same, by round: ratios are taken within a round (the variants ran back
  // to back), because throughput swings from round to round on a busy machine.
  std::map<std::string, std::map<std::string, std::map<int, double>>> contended_by_round;
  struct munmap_run {
    std::vector<double> plain, guarded, overhead, scrub_hot, scrub_cold;
    std::size_t guarded_threads = 0;
  };
  std::map<int, munmap_run> munmap;
  std::vector<double> cdriver_ns;  // glibc robust pshared through the C driver
  std::optional<double> cdriver_instructions;
  std::vector<std::string> notes;
  std::set<std::string> native_variants;  // what rfutex-bench-native can measure
  bool failed = false;
};

// The driver programs found for this run.
struct drivers {
  std::filesystem::path dir;
  std::string native, musl, cdriver;  // empty: not available
  std::string setup_hint;
};

// What variant `name` is compared with in a contended mode: the read sides
// with pthread_rwlock's read side, mutexes with glibc's robust mutex
// (process-shared between processes).
std::string contended_baseline(const std::string& name, const contended_mode& mode);

// Records a note for the report (and says it on stderr).
void note(results& r, const std::string& text);
// Records that a driver run failed.
void failure(results& r, const std::vector<std::string>& argv, const run_result& rr);

double number(const std::string& s);

}  // namespace rfutex::tool::bench
