// SPDX-License-Identifier: MIT
// rfutex torture: a kill storm over every rfutex lock type.
//
// A parent process forks worker processes (several threads each) that hammer
// a set of locks in one MAP_SHARED arena, each lock protecting data with an
// invariant and a journal. The parent SIGKILLs workers at moments biased
// towards a thread holding a lock or being inside lock/unlock, respawns them,
// watches for stalls and for sleepers nobody will wake, and finally checks
// that every death of a holder was reported as owner_died exactly once, that
// no invariant broke and that no unrelated file mapped where a retired lock
// region was got a byte changed.
//
// Files: storm.cpp (the parent), worker.cpp (a worker process),
// <kind>_workload.cpp (one per lock type, see workload.hpp), region_cycle.cpp
// (lock regions unmapped and replaced), liveness.cpp (stranded-sleeper
// detector), report.cpp (result line and JSON).
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace rfutex::tool::torture {

enum class unmap_mode { rfutex, raw };

struct options {
  double seconds = 10;          // 0: no time limit
  long kills = 0;               // 0: no kill limit
  std::uint64_t seed = 1;
  int workers = 4;
  int threads = 4;              // per worker, >= 3 (producer, consumer, others)
  double stall_limit = 5;       // seconds a live thread may go without progress in the quiet phase
  double quiet_seconds = 1;     // length of the quiet phase (no kills) at the end
  unmap_mode unmap = unmap_mode::rfutex;
  bool json = false;
  bool progress = false;        // live progress line (stdout is a terminal and not --quiet)
};

// What a thread is doing, published for the parent (which picks victims by
// it, and after a death reads what the thread was doing when it died).
enum class phase : std::uint32_t {
  idle,
  acquiring,          // inside lock() of `lock`
  holding,            // holds `lock`; its journal is open with this thread's id
  releasing,          // journal closed, inside unlock() of `lock`
  waiting,            // inside a condition-variable wait with `lock`
  reading,            // holds `lock` shared (its death is nobody's to report)
  region_acquiring,   // the same four for the worker's own region lock
  region_holding,
  region_releasing,
  region_replacing,   // unmapping a retired region and mapping a file there
  region_replaced,    // just mapped the file over the retired region
  parked,             // stopped (drain)
};

const char* name_of(phase p);

// Published by each worker thread in the shared control block.
struct alignas(64) thread_slot {
  std::atomic<std::uint32_t> phase{0};
  std::atomic<std::uint32_t> lock{0};         // index into the lock table
  std::atomic<std::uint64_t> ops{0};          // completed operations
  std::atomic<std::int32_t> tid{0};
  std::atomic<std::uint32_t> incarnation{0};  // set by the parent before the fork
};

inline constexpr std::size_t max_failure_text = 480;

// The control block, at the start of the shared arena.
struct control {
  std::atomic<std::uint32_t> stop{0};         // drain: finish the current operation and park
  // Locks (bit = global lock index) nobody may start an operation on for a
  // while: after a death near a lock, whoever it stranded stays stranded
  // instead of being rescued by the next contender, so the sleeper watch
  // sees it.
  std::atomic<std::uint32_t> calm_locks{0};
  std::atomic<std::uint32_t> failures{0};
  std::atomic<std::uint32_t> failure_text_taken{0};
  char failure_text[max_failure_text] = {};
  std::atomic<std::uint64_t> recoveries{0};   // owner_died acquisitions (all locks)
  std::atomic<std::uint64_t> unmaps{0};       // lock regions retired and replaced
  std::atomic<std::uint64_t> foreign_bytes_changed{0};
  std::atomic<std::uint64_t> files_checked{0};
  std::atomic<std::uint64_t> replaced_elsewhere{0};  // the address was taken meanwhile
  std::uint64_t seed = 0;
  std::uint32_t threads_per_worker = 0;
  std::uint32_t unmap_raw = 0;
  char directory[256] = {};                   // where replacement files live
};

// Records a failure (the first text is kept) — from any process.
void record_failure(control& c, const char* fmt, ...) __attribute__((format(printf, 2, 3)));

// Owner-death ledger: how many owner_died acquisitions named each thread
// incarnation as the dead holder (its journal was open). Indexed by
// incarnation; sized for the run.
struct ledger {
  std::atomic<std::uint32_t>* reports = nullptr;
  std::size_t capacity = 0;
};

// The figures and verdict of a run.
struct result {
  bool pass = false;
  std::vector<std::string> failures;
  long kills = 0;
  long kills_while_holding = 0;   // kills where a victim thread held a shared lock
  long holder_deaths = 0;         // threads that died holding a shared lock
  long kills_racing_unmap = 0;    // a region member inside unlock while its region was just replaced
  long kills_of_woken_waiters = 0;  // victim awake inside lock() while another slept on that lock
  std::uint64_t recoveries = 0;
  std::uint64_t ops = 0;
  std::uint64_t unmaps = 0;
  std::uint64_t foreign_bytes_changed = 0;
  std::uint64_t files_checked = 0;
  std::uint64_t replaced_elsewhere = 0;
  double max_stall_ms = 0;        // longest interval without any completed operation
  double quiet_max_wait_ms = 0;   // longest a thread waited for its first op in the quiet phase
  double seconds = 0;
  long respawns = 0;
  std::string strategy;
  std::string unmap;
  options opts;
};

result run_storm(const options& o);

void print_result_line(const result& r);
void print_result_json(const result& r);

}  // namespace rfutex::tool::torture
