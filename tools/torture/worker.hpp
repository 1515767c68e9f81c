// SPDX-License-Identifier: MIT
// A worker process of the storm: `threads` threads, each running random
// operations over the shared workloads and the worker's own region cycle
// until the parent asks for the drain.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "workload.hpp"

namespace rfutex::tool::torture {

struct worker_setup {
  control* ctl;
  ledger deaths;
  thread_slot* slots;               // this worker's `threads` slots
  std::uint32_t threads;
  std::uint32_t incarnation;        // the worker's; thread i is incarnation * threads + i
  std::vector<std::unique_ptr<workload>>* workloads;
};

// Runs in the forked child; never returns (exit status 0 after the drain).
[[noreturn]] void worker_main(const worker_setup& w);

}  // namespace rfutex::tool::torture
