// SPDX-License-Identifier: MIT
#include <cmath>
#include <iterator>
#include <string_view>

#include <nlohmann/json.hpp>

#include "report.hpp"
#include "stats.hpp"
#include "targets.hpp"

namespace rfutex::tool::bench {

namespace {

using nlohmann::json;

// A number, or null when absent or not finite.
json value_or_null(const std::optional<double>& v) {
  return v && std::isfinite(*v) ? json(*v) : json(nullptr);
}

json median(const std::optional<stats>& s) { return value_or_null(s ? std::optional(s->median) : std::nullopt); }
json minimum(const std::optional<stats>& s) { return value_or_null(s ? std::optional(s->min) : std::nullopt); }
json maximum(const std::optional<stats>& s) { return value_or_null(s ? std::optional(s->max) : std::nullopt); }

json uncontended_rows(const results& r, const drivers& d) {
  const auto base = summarize(samples_or_empty(r.uncontended_ns, "glibc_default"));
  const auto robust = summarize(samples_or_empty(r.uncontended_ns, "glibc_robust"));
  std::vector<variant> rows(std::begin(uncontended_variants), std::end(uncontended_variants));
  if (r.uncontended_ns.count("rfutex_robust_guarded") != 0)
    rows.push_back({"rfutex_robust_guarded", source::native, "rfutex_robust",
                    "rfutex::robust_mutex with RFUTEX_UNLOCK=guarded"});
  json out = json::array();
  for (const auto& v : rows) {
    const auto s = summarize(samples_or_empty(r.uncontended_ns, v.name));
    json row = {
        {"name", v.name},
        {"median_ns", median(s)},
        {"min_ns", minimum(s)},
        {"max_ns", maximum(s)},
        {"repetitions", s ? s->n : 0},
        {"ratio_to_glibc_default", value_or_null(ratio(s, base))},
        {"ratio_to_glibc_robust", value_or_null(ratio(s, robust))},
        {"ratio_of_minima_to_glibc_default", value_or_null(min_ratio(s, base))},
        {"instructions", value_or_null(instructions_of(r, v.name))},
        {"what", v.description},
    };
    if (std::string_view(v.name).starts_with("rfutex_robust") && s)
      row["strategy"] = std::string_view(v.name) == "rfutex_robust_guarded" ? "guarded" : r.strategy;
    if (!s) {
      row["absent"] = true;
      row["note"] = reason_missing(r, v, d);
    }
    out.push_back(std::move(row));
  }
  return out;
}

const std::map<std::string, std::vector<double>>& samples_none() {
  static const std::map<std::string, std::vector<double>> none;
  return none;
}
const std::map<std::string, std::map<int, double>>& rounds_none() {
  static const std::map<std::string, std::map<int, double>> none;
  return none;
}

json contended_rows(const results& r, const drivers& d) {
  json out = json::array();
  for (const auto& mode : contended_modes) {
    const auto& m = r.contended.count(mode.name) ? r.contended.at(mode.name) : samples_none();
    const auto& by_round = r.contended_by_round.count(mode.name) ? r.contended_by_round.at(mode.name)
                                                                 : rounds_none();
    for (const auto& v : contended_variants) {
      if (!(mode.processes ? v.processes : v.threads)) continue;
      const std::string baseline = contended_baseline(v.name, mode);
      const auto s = summarize(samples_or_empty(m, v.name));
      const auto pr = paired_ratio(by_round, v.name, baseline);
      json row = {
          {"name", v.name},
          {"mode", mode.processes ? "processes" : "threads"},
          {"workers", mode.workers},
          {"ops_per_s", median(s)},
          {"min_ops_per_s", minimum(s)},
          {"max_ops_per_s", maximum(s)},
          {"repetitions", s ? s->n : 0},
          {"baseline", baseline},
          {"ratio_to_baseline", value_or_null(median_of(pr))},
          {"ratio_min", minimum(pr)},
          {"ratio_max", maximum(pr)},
          {"pshared", mode.processes || v.pshared_in_threads},
      };
      if (!s) {
        const variant* uv = nullptr;
        for (const auto& x : uncontended_variants)
          if (std::string_view(x.name) == v.name) uv = &x;
        row["absent"] = true;
        row["note"] = uv ? reason_missing(r, *uv, d) : "";
      }
      out.push_back(std::move(row));
    }
  }
  return out;
}

json munmap_rows(const results& r) {
  json out = json::array();
  for (const int threads : munmap_thread_counts) {
    const auto it = r.munmap.find(threads);
    const results::munmap_run empty;
    const auto& m = it != r.munmap.end() ? it->second : empty;
    const auto overhead = summarize(m.overhead);
    out.push_back({
        {"threads", threads},
        {"guarded_thread_count", m.guarded_threads},
        {"plain_ns", median(summarize(m.plain))},
        {"guarded_ns", median(summarize(m.guarded))},
        {"overhead_ns", median(overhead)},
        {"overhead_min_ns", minimum(overhead)},
        {"overhead_max_ns", maximum(overhead)},
        {"scrub_ns", median(summarize(m.scrub_cold))},
        {"scrub_hot_ns", median(summarize(m.scrub_hot))},
        {"repetitions", overhead ? overhead->n : 0},
    });
  }
  return out;
}

json target_rows(const results& r) {
  json out = json::array();
  for (const auto& t : targets_of(r)) {
    json row = {{"what", t.what},
                {"goal", t.goal},
                {"measured", value_or_null(t.value)},
                {"met", t.value ? json(met(t)) : json(nullptr)},
                {"verdict", verdict(t)}};
    if (t.fastest) row["measured_fastest_runs"] = value_or_null(t.fastest);
    out.push_back(std::move(row));
  }
  return out;
}

}  // namespace

void write_json(std::FILE* out, const results& r, const drivers& d) {
  const auto gb = summarize(samples_or_empty(r.uncontended_ns, "glibc_robust_pshared"));
  const auto cd = summarize(r.cdriver_ns);
  const json report = {
      {"kernel", r.kernel},
      {"machine", r.machine},
      {"cpus", r.cpus},
      {"load_average", {{"before", r.load_before}, {"after", r.load_after}}},
      {"strategy", r.strategy},
      {"best_strategy", r.best_strategy},
      {"libc", {{"glibc", r.glibc}, {"musl", r.musl.empty() ? json(nullptr) : json(r.musl)}}},
      {"method",
       {{"rounds", r.opt.rounds},
        {"quick", r.opt.quick},
        {"benchmark_min_time_s", r.opt.min_time},
        {"contended_ms", r.opt.contended_ms},
        {"munmap_samples", r.opt.munmap_samples},
        {"uncontended",
         "Google Benchmark (musl: the C driver, same iteration rule), real time per lock+unlock "
         "pair, a second thread alive; one run per variant per round, rounds interleaved"},
        {"instructions",
         "valgrind --tool=callgrind, (Ir(220000 pairs) - Ir(20000 pairs)) / 200000, loop "
         "overhead included"},
        {"contended",
         "total lock+unlock ops/s of N workers on one lock in a memfd mapping; every pthread "
         "mutex is process-shared in processes mode; ratios are medians of per-round ratios"},
        {"munmap_guard",
         "median of per-call times of munmap vs rfutex::unmap of a fresh populated 1-page "
         "mapping, calls alternated; threads registered with the guard and blocked; scrub_ns: "
         "scrub_pending alone right after a munmap, scrub_hot_ns: back to back"}}},
      {"uncontended", uncontended_rows(r, d)},
      {"contended", contended_rows(r, d)},
      {"munmap_guard", munmap_rows(r)},
      {"harness_check",
       {{"what",
         "glibc_robust_pshared timed by Google Benchmark and by the C driver that times musl "
         "(same source, built against glibc)"},
        {"google_benchmark_ns", median(gb)},
        {"c_driver_ns", median(cd)},
        {"ratio", value_or_null(ratio(cd, gb))},
        {"google_benchmark_instructions", value_or_null(instructions_of(r, "glibc_robust_pshared"))},
        {"c_driver_instructions", value_or_null(r.cdriver_instructions)}}},
      {"targets", target_rows(r)},
      {"notes", r.notes},
  };
  std::fprintf(out, "%s\n", report.dump(2).c_str());
}

}  // namespace rfutex::tool::bench
