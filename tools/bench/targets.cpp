// SPDX-License-Identifier: MIT
#include "targets.hpp"

#include <cstdio>

#include "stats.hpp"

namespace rfutex::tool::bench {

std::vector<target> targets_of(const results& r) {
  const auto u = [&](const char* name) {
    return summarize(r.uncontended_ns.count(name) ? r.uncontended_ns.at(name) : std::vector<double>{});
  };
  const auto contended = [&](const char* mode, const char* name, const char* base) -> std::optional<double> {
    const auto it = r.contended_by_round.find(mode);
    if (it == r.contended_by_round.end()) return std::nullopt;
    return median_of(paired_ratio(it->second, name, base));
  };
  const auto munmap_overhead = [&](int threads) -> std::optional<double> {
    if (r.munmap.count(threads) == 0) return std::nullopt;
    if (const auto s = summarize(r.munmap.at(threads).overhead)) return s->median;
    return std::nullopt;
  };
  std::vector<target> t = {
      {"uncontended rfutex_robust / glibc_default", "<= 1.10",
       ratio(u("rfutex_robust"), u("glibc_default")), 1.10, true, "x",
       min_ratio(u("rfutex_robust"), u("glibc_default"))},
      {"uncontended rfutex_robust_pi / glibc_default", "<= 1.10",
       ratio(u("rfutex_robust_pi"), u("glibc_default")), 1.10, true, "x",
       min_ratio(u("rfutex_robust_pi"), u("glibc_default"))},
      {"uncontended rfutex_robust / glibc_robust", "<= 0.85",
       ratio(u("rfutex_robust"), u("glibc_robust")), 0.85, true, "x",
       min_ratio(u("rfutex_robust"), u("glibc_robust"))},
      {"uncontended rfutex_robust / musl_robust", "<= 0.60",
       ratio(u("rfutex_robust"), u("musl_robust")), 0.60, true, "x",
       min_ratio(u("rfutex_robust"), u("musl_robust"))},
      {"uncontended rfutex_shared_read / pthread_rwlock_read", "<= 1.50",
       ratio(u("rfutex_shared_read"), u("pthread_rwlock_read")), 1.50, true, "x",
       min_ratio(u("rfutex_shared_read"), u("pthread_rwlock_read"))},
      {"uncontended rfutex_shared_write / pthread_rwlock_write", "<= 1.30",
       ratio(u("rfutex_shared_write"), u("pthread_rwlock_write")), 1.30, true, "x",
       min_ratio(u("rfutex_shared_write"), u("pthread_rwlock_write"))},
  };
  for (const auto& mode : contended_modes) {
    const std::string who = std::to_string(mode.workers) + (mode.processes ? " processes" : " threads");
    const char* robust = mode.processes ? "glibc_robust_pshared" : "glibc_robust";
    t.push_back({who + ": rfutex_robust / " + robust + " ops/s", ">= 1.00",
                 contended(mode.name, "rfutex_robust", robust), 1.0, false, "x"});
    t.push_back({who + ": rfutex_robust / glibc_default ops/s", ">= 0.80",
                 contended(mode.name, "rfutex_robust", "glibc_default"), 0.8, false, "x"});
  }
  t.push_back({"guarded munmap overhead, 8 threads", "<= 100 ns", munmap_overhead(8), 100, true, "ns"});
  t.push_back({"guarded munmap overhead, 64 threads", "<= 500 ns", munmap_overhead(64), 500, true, "ns"});
  return t;
}

bool met(const target& t) {
  return t.value && (t.at_most ? *t.value <= t.limit : *t.value >= t.limit);
}

std::string verdict(const target& t) {
  if (!t.value) return "not measured";
  const double rel = (*t.value - t.limit) / t.limit * (t.at_most ? 1 : -1);
  char buf[64];
  if (met(t))
    std::snprintf(buf, sizeof buf, "met (%.0f%% margin)", -rel * 100);
  else
    std::snprintf(buf, sizeof buf, "MISSED by %.0f%%", rel * 100);
  return buf;
}

}  // namespace rfutex::tool::bench
