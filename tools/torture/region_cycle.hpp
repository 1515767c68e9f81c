// SPDX-License-Identifier: MIT
// Lock regions that come and go inside one worker process.
//
// The worker's threads join the current region (a one-page memfd holding a
// robust_mutex at an offset that changes every cycle), lock and unlock it a
// few times and leave, inside their last critical section. After a fixed
// number of joins the region is closed to newcomers; the thread whose leave
// empties it — it learned that from inside the lock, right after the other
// members' unlocks, some of which may still be finishing — retires it: the
// region is unmapped (rfutex::unmap, or rfutex::map_fixed straight over it;
// with --unmap raw, bare system calls) and an unrelated file is mapped at the
// same address, its word at the lock's offset holding the TID of the thread
// that unlocked just before. If that thread dies now with its list_op_pending
// still pointing at the old lock, the kernel writes FUTEX_OWNER_DIED into the
// file. Each file has a twin never mapped; the pair is compared byte for byte
// when the worker unmaps the file later, or by the parent after the worker
// died.
#pragma once

#include <cstdint>
#include <deque>
#include <mutex>
#include <string>

#include "workload.hpp"

namespace rfutex::tool::torture {

struct live_region;

// A thread's membership of a region.
struct region_member {
  live_region* region = nullptr;
  int ops_left = 0;
};

class region_cycle {
 public:
  region_cycle(control& c, std::uint32_t worker_incarnation);
  region_cycle(const region_cycle&) = delete;
  region_cycle& operator=(const region_cycle&) = delete;

  // One lock/unlock of the thread's region (joining one first if needed).
  void step(thread_context& t, region_member& me);

  // At the drain, no thread running: unmap and check every replacement.
  void finish();

 private:
  struct replacement {
    void* address;
    std::size_t length;
    std::string path;  // <path>.data is mapped, <path>.expect its twin
  };
  live_region* create_region();
  void retire(thread_context& t, live_region* r, std::int32_t previous_tid);
  void drop(const replacement& rep);

  control& ctl_;
  std::uint32_t incarnation_;
  std::mutex mutex_;  // guards current_, cycles_, replacements_ (process-private)
  live_region* current_ = nullptr;
  std::uint64_t cycles_ = 0;
  std::deque<replacement> replacements_;
};

// Compares <path>.data with <path>.expect, removes both; returns how many
// bytes differ (a missing twin counts the whole file as changed... see .cpp).
std::uint64_t check_and_remove(const std::string& path, bool& complete);

// The parent: checks and removes every replacement file a dead worker left.
void check_files_of(control& c, std::uint32_t worker_incarnation);

}  // namespace rfutex::tool::torture
