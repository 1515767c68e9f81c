// SPDX-License-Identifier: MIT
#include <iterator>
#include <string_view>

#include "report.hpp"
#include "stats.hpp"
#include "targets.hpp"

namespace rfutex::tool::bench {

void write_markdown(std::FILE* out, const results& r, const drivers& d, const std::string& chart) {
  const auto base = summarize(samples_or_empty(r.uncontended_ns, "glibc_default"));
  std::fprintf(out, "## rfutex bench\n\n");
  std::fprintf(out,
               "Linux %s %s, %ld CPUs · glibc %s · musl %s · rfutex unlock strategy **%s** "
               "(best on this kernel: %s) · %d rounds%s · load average %.1f before, %.1f after\n\n",
               r.kernel.c_str(), r.machine.c_str(), r.cpus, r.glibc.c_str(),
               r.musl.empty() ? "—" : r.musl.c_str(), r.strategy.c_str(), r.best_strategy.c_str(),
               r.opt.rounds, r.opt.quick ? " (--quick)" : "", r.load_before, r.load_after);

  std::fprintf(out, "### Uncontended lock+unlock pair\n\n");
  std::fprintf(out,
               "| variant | × glibc default | median ns | min–max ns | instructions/pair | "
               "× glibc default, fastest runs |\n");
  std::fprintf(out, "|---|--:|--:|--:|--:|--:|\n");
  std::vector<variant> rows(std::begin(uncontended_variants), std::end(uncontended_variants));
  if (r.uncontended_ns.count("rfutex_robust_guarded") != 0)
    rows.push_back({"rfutex_robust_guarded", source::native, "", ""});
  for (const auto& v : rows) {
    const auto s = summarize(samples_or_empty(r.uncontended_ns, v.name));
    std::string name = v.name;
    if (name == "rfutex_robust") name += " (" + r.strategy + ")";
    if (!s) {
      std::fprintf(out, "| %s | — | — | — | — | — |\n", name.c_str());
      continue;
    }
    std::fprintf(out, "| %s | %s | %.1f | %.1f–%.1f | %s | %s |\n", name.c_str(),
                 fmt_opt(ratio(s, base), 2).c_str(), s->median, s->min, s->max,
                 fmt_opt(instructions_of(r, v.name), 0).c_str(),
                 fmt_opt(min_ratio(s, base), 2).c_str());
  }
  std::fprintf(out, "\n");
  bool any_missing = false;
  for (const auto& v : rows)
    if (!summarize(samples_or_empty(r.uncontended_ns, v.name))) {
      std::fprintf(out, "%s: %s\n", v.name, reason_missing(r, v, d).c_str());
      any_missing = true;
    }
  if (any_missing) std::fprintf(out, "\n");

  std::fprintf(out, "### Contended: 2 and 4 workers on one lock\n\n");
  std::fprintf(out, "| variant |");
  for (const auto& mode : contended_modes)
    std::fprintf(out, " %d %s Mops/s | × baseline |", mode.workers, mode.processes ? "processes" : "threads");
  std::fprintf(out, " baseline |\n|---|");
  for (std::size_t i = 0; i < std::size(contended_modes); ++i) std::fprintf(out, "--:|--:|");
  std::fprintf(out, "---|\n");
  const auto cell = [](const std::optional<stats>& s) {
    return s ? fmt(s->median / 1e6, 2) + " (" + fmt(s->min / 1e6, 2) + "–" + fmt(s->max / 1e6, 2) + ")"
             : std::string("—");
  };
  const auto ratio_cell = [](const std::optional<stats>& s) {
    return s ? fmt(s->median, 2) + " (" + fmt(s->min, 2) + "–" + fmt(s->max, 2) + ")" : std::string("—");
  };
  for (const auto& v : contended_variants) {
    std::fprintf(out, "| %s |", v.name);
    std::string baselines;
    for (const auto& mode : contended_modes) {
      const auto samples = r.contended.find(mode.name);
      const auto rounds = r.contended_by_round.find(mode.name);
      const std::string baseline = contended_baseline(v.name, mode);
      if (baselines.find(baseline) == std::string::npos) baselines += (baselines.empty() ? "" : ", ") + baseline;
      const auto t = samples == r.contended.end() ? std::nullopt : summarize(samples_or_empty(samples->second, v.name));
      const auto q = rounds == r.contended_by_round.end() ? std::nullopt
                                                          : paired_ratio(rounds->second, v.name, baseline);
      std::fprintf(out, " %s | %s |", cell(t).c_str(), ratio_cell(q).c_str());
    }
    std::fprintf(out, " %s |\n", baselines.c_str());
  }
  std::fprintf(out,
               "\nMops/s: median (min–max) over rounds. Ratios: median (min–max) over rounds of the "
               "ratio within a round, to the baseline of that mode (glibc_robust between threads, "
               "glibc_robust_pshared between processes, pthread_rwlock_read for the read sides). "
               "Between processes every pthread lock is process-shared (glibc_default too); "
               "glibc_robust is private, so threads only.\n\n");

  std::fprintf(out, "### munmap of a 1-page mapping: plain vs through the unmap guard\n\n");
  std::fprintf(out,
               "| threads alive | munmap ns | rfutex::unmap ns | overhead ns (min–max) | "
               "scrub_pending alone ns: after a munmap / hot |\n|--:|--:|--:|--:|--:|\n");
  for (const int threads : munmap_thread_counts) {
    const auto it = r.munmap.find(threads);
    if (it == r.munmap.end()) {
      std::fprintf(out, "| %d | — | — | — | — |\n", threads);
      continue;
    }
    const auto plain = summarize(it->second.plain), guarded = summarize(it->second.guarded),
               overhead = summarize(it->second.overhead), hot = summarize(it->second.scrub_hot),
               cold = summarize(it->second.scrub_cold);
    std::fprintf(out, "| %d | %.0f | %.0f | %.0f (%.0f–%.0f) | %.0f / %.0f |\n", threads,
                 plain->median, guarded->median, overhead->median, overhead->min, overhead->max,
                 cold->median, hot->median);
  }
  std::fprintf(out, "\n### Targets\n\n| target | goal | measured | |\n|---|---|--:|---|\n");
  for (const auto& t : targets_of(r))
    std::fprintf(out, "| %s | %s | %s%s | %s |\n", t.what.c_str(), t.goal.c_str(),
                 fmt_opt(t.value, t.unit == "ns" ? 0 : 2, t.unit == "ns" ? " ns" : "").c_str(),
                 t.fastest ? (" (fastest runs: " + fmt(*t.fastest, 2) + ")").c_str() : "",
                 verdict(t).c_str());
  {
    const auto gb = summarize(samples_or_empty(r.uncontended_ns, "glibc_robust_pshared"));
    const auto cd = summarize(r.cdriver_ns);
    if (gb && cd)
      std::fprintf(out,
                   "\nHarness check: glibc_robust_pshared takes %.1f ns under Google Benchmark and "
                   "%.1f ns under the C driver that times musl (%.2f×)%s.\n",
                   gb->median, cd->median, cd->median / gb->median,
                   r.cdriver_instructions && instructions_of(r, "glibc_robust_pshared")
                       ? (", " + fmt(*r.cdriver_instructions, 0) + " vs " +
                          fmt(*instructions_of(r, "glibc_robust_pshared"), 0) + " instructions")
                             .c_str()
                       : "");
  }
  if (!r.notes.empty()) {
    std::fprintf(out, "\nNotes:\n");
    for (const auto& n : r.notes) std::fprintf(out, "- %s\n", n.c_str());
  }
  if (!chart.empty()) std::fprintf(out, "\n![rfutex bench](%s)\n", chart.c_str());
}

}  // namespace rfutex::tool::bench
