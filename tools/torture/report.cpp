// SPDX-License-Identifier: MIT
// The result line and the --json document of a storm.
#include <cstdio>

#include <nlohmann/json.hpp>

#include "torture.hpp"

namespace rfutex::tool::torture {

void print_result_line(const result& r) {
  std::printf(
      "torture %s: kills=%ld kills_while_holding=%ld recoveries=%llu ops=%llu unmaps=%llu "
      "foreign_bytes_changed=%llu max_stall_ms=%.0f  (strategy=%s unmap=%s seed=%llu workers=%d "
      "threads=%d seconds=%.1f holder_deaths=%ld files_checked=%llu)\n",
      r.pass ? "PASS" : "FAIL", r.kills, r.kills_while_holding,
      static_cast<unsigned long long>(r.recoveries), static_cast<unsigned long long>(r.ops),
      static_cast<unsigned long long>(r.unmaps),
      static_cast<unsigned long long>(r.foreign_bytes_changed), r.max_stall_ms, r.strategy.c_str(),
      r.unmap.c_str(), static_cast<unsigned long long>(r.opts.seed), r.opts.workers,
      r.opts.threads, r.seconds, r.holder_deaths, static_cast<unsigned long long>(r.files_checked));
  for (const auto& f : r.failures) std::printf("  FAIL: %s\n", f.c_str());
}

void print_result_json(const result& r) {
  const nlohmann::json j = {
      {"verdict", r.pass ? "PASS" : "FAIL"},
      {"failures", r.failures},
      {"kills", r.kills},
      {"kills_while_holding", r.kills_while_holding},
      {"holder_deaths", r.holder_deaths},
      {"kills_of_woken_waiters", r.kills_of_woken_waiters},
      {"kills_racing_unmap", r.kills_racing_unmap},
      {"recoveries", r.recoveries},
      {"ops", r.ops},
      {"unmaps", r.unmaps},
      {"foreign_bytes_changed", r.foreign_bytes_changed},
      {"files_checked", r.files_checked},
      {"replaced_elsewhere", r.replaced_elsewhere},
      {"max_stall_ms", r.max_stall_ms},
      {"quiet_max_wait_ms", r.quiet_max_wait_ms},
      {"respawns", r.respawns},
      {"seconds", r.seconds},
      {"strategy", r.strategy},
      {"unmap", r.unmap},
      {"seed", r.opts.seed},
      {"workers", r.opts.workers},
      {"threads", r.opts.threads},
      {"stall_limit_s", r.opts.stall_limit},
  };
  std::printf("%s\n", j.dump().c_str());
}

}  // namespace rfutex::tool::torture
