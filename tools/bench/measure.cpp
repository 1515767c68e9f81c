// SPDX-License-Identifier: MIT
#include "measure.hpp"

#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string_view>

namespace rfutex::tool::bench {

namespace {


// Adds the driver's "uncontended <name> <ns>" lines to `r` by name, or all to
// `only`.
void collect_uncontended(results& r, const run_result& rr, std::vector<double>* only = nullptr) {
  for (const auto& w : lines_of(rr.out)) {
    if (w.size() >= 3 && w[0] == "uncontended") {
      if (only != nullptr)
        only->push_back(number(w[2]));
      else
        r.uncontended_ns[w[1]].push_back(number(w[2]));
    } else if (!w.empty() && w[0] == "error") {
      r.failed = true;
      std::string msg;
      for (const auto& x : w) msg += x + " ";
      note(r, "native driver: " + msg);
    }
  }
}

// Instructions per pair: two callgrind runs, N1 and N2 pairs; start-up and
// teardown cancel in the difference.
std::optional<double> count_instructions(results& r, const std::string& valgrind,
                                         const std::string& driver, const std::string& name,
                                         const std::vector<std::string>& env = {}) {
  constexpr long n1 = 20000, n2 = 220000;
  double collected[2] = {0, 0};
  const long counts[2] = {n1, n2};
  for (int i = 0; i < 2; ++i) {
    const std::vector<std::string> argv = {
        valgrind, "--tool=callgrind",       "--callgrind-out-file=/dev/null", driver, "count",
        name,     std::to_string(counts[i])};
    const run_result rr = run(argv, env);
    const auto at = rr.err.find("Collected :");
    if (rr.status != 0 || at == std::string::npos) {
      failure(r, argv, rr);
      return std::nullopt;
    }
    collected[i] = number(rr.err.substr(at + std::strlen("Collected :")));
  }
  return (collected[1] - collected[0]) / static_cast<double>(n2 - n1);
}

}  // namespace

void measure_uncontended(results& r, const drivers& d) {
  const std::string min_time = std::to_string(r.opt.min_time);
  std::vector<std::vector<std::string>> jobs;
  jobs.push_back({d.native, "uncontended", "--benchmark_repetitions=1",
                  "--benchmark_enable_random_interleaving=true",
                  "--benchmark_min_time=" + min_time});
  if (!d.musl.empty()) jobs.push_back({d.musl, "time", "robust_pshared", min_time, "1"});
  if (!d.cdriver.empty()) jobs.push_back({d.cdriver, "time", "robust_pshared", min_time, "1"});
  const bool other_strategy = r.strategy != "guarded" && r.strategy != "unknown";
  for (int round = 0; round < r.opt.rounds; ++round) {
    std::fprintf(stderr, "rfutex bench: uncontended, round %d/%d\n", round + 1, r.opt.rounds);
    for (std::size_t k = 0; k < jobs.size(); ++k) {
      // Rotate the order, so no driver always runs first (or last).
      const auto& job = jobs[(k + static_cast<std::size_t>(round)) % jobs.size()];
      const run_result rr = run(job);
      if (rr.status != 0) {
        failure(r, job, rr);
        continue;
      }
      if (job[0] == d.musl)
        collect_uncontended(r, rr, &r.uncontended_ns["musl_robust"]);
      else if (job[0] == d.cdriver)
        collect_uncontended(r, rr, &r.cdriver_ns);
      else
        collect_uncontended(r, rr);
    }
    if (other_strategy) {
      // Kernel-assisted strategy active: measure the guarded one as well.
      std::vector<std::string> job = jobs[0];
      job.push_back("--benchmark_filter=^rfutex_robust$");
      const run_result rr = run(job, {"RFUTEX_UNLOCK=guarded"});
      if (rr.status == 0)
        collect_uncontended(r, rr, &r.uncontended_ns["rfutex_robust_guarded"]);
      else
        failure(r, job, rr);
    }
  }
}

void measure_instructions(results& r, const drivers& d) {
  if (!r.opt.instructions) return;
  const auto valgrind = find_in_path("valgrind");
  if (!valgrind) {
    note(r, "instructions per pair skipped: valgrind is not installed (run " + d.setup_hint + ")");
    return;
  }
  std::fprintf(stderr, "rfutex bench: instructions per pair (valgrind --tool=callgrind)\n");
  for (const auto& v : uncontended_variants) {
    std::optional<double> n;
    if (v.from == source::native && r.native_variants.count(v.driver_name) != 0)
      n = count_instructions(r, *valgrind, d.native, v.driver_name);
    else if (v.from == source::musl && !d.musl.empty())
      n = count_instructions(r, *valgrind, d.musl, v.driver_name);
    if (n) r.instructions[v.name] = *n;
  }
  if (r.uncontended_ns.count("rfutex_robust_guarded") != 0) {
    if (auto n =
            count_instructions(r, *valgrind, d.native, "rfutex_robust", {"RFUTEX_UNLOCK=guarded"}))
      r.instructions["rfutex_robust_guarded"] = *n;
  }
  if (!d.cdriver.empty())
    r.cdriver_instructions = count_instructions(r, *valgrind, d.cdriver, "robust_pshared");
}

void measure_contended(results& r, const drivers& d) {
  const std::string ms = std::to_string(r.opt.contended_ms);
  for (int round = 0; round < r.opt.rounds; ++round) {
    std::fprintf(stderr, "rfutex bench: contended, round %d/%d\n", round + 1, r.opt.rounds);
    for (const auto& mode : contended_modes) {
      std::vector<std::string> native_names;
      for (const auto& v : contended_variants)
        if (v.from == source::native && (mode.processes ? v.processes : v.threads) &&
            r.native_variants.count(v.driver_name) != 0)
          native_names.emplace_back(v.driver_name);
      std::rotate(native_names.begin(),
                  native_names.begin() + round % static_cast<int>(native_names.size()),
                  native_names.end());
      std::vector<std::vector<std::string>> jobs;
      std::vector<std::string> native_job = {d.native, "contended", mode.name, ms};
      native_job.insert(native_job.end(), native_names.begin(), native_names.end());
      jobs.push_back(native_job);
      if (!d.musl.empty()) jobs.push_back({d.musl, "contended", mode.name, ms, "robust_pshared"});
      if (round % 2 == 1) std::reverse(jobs.begin(), jobs.end());
      auto& into = r.contended[mode.name];
      auto& by_round = r.contended_by_round[mode.name];
      for (const auto& job : jobs) {
        const run_result rr = run(job);
        if (rr.status != 0) failure(r, job, rr);
        for (const auto& w : lines_of(rr.out)) {
          if (w.size() < 4 || w[0] != "contended") continue;
          const std::string name = job[0] == d.musl ? "musl_robust" : w[2];
          into[name].push_back(number(w[3]));
          by_round[name][round] = number(w[3]);
        }
      }
    }
  }
}

void measure_munmap(results& r, const drivers& d) {
  const std::string samples = std::to_string(r.opt.munmap_samples);
  for (int round = 0; round < r.opt.rounds; ++round) {
    std::fprintf(stderr, "rfutex bench: guarded munmap, round %d/%d\n", round + 1, r.opt.rounds);
    for (const int threads : munmap_thread_counts) {
      const std::vector<std::string> job = {d.native, "munmap", std::to_string(threads), samples};
      const run_result rr = run(job);
      if (rr.status != 0) {
        failure(r, job, rr);
        continue;
      }
      for (const auto& w : lines_of(rr.out)) {
        if (w.size() < 7 || w[0] != "munmap") continue;
        auto& m = r.munmap[threads];
        m.plain.push_back(number(w[2]));
        m.guarded.push_back(number(w[3]));
        m.overhead.push_back(number(w[3]) - number(w[2]));
        m.scrub_hot.push_back(number(w[4]));
        m.guarded_threads = static_cast<std::size_t>(number(w[5]));
        m.scrub_cold.push_back(number(w[6]));
      }
    }
  }
}

bool describe_system(results& r, const drivers& d) {
  utsname u{};
  if (uname(&u) == 0) {
    r.kernel = u.release;
    r.machine = u.machine;
  }
  r.cpus = sysconf(_SC_NPROCESSORS_ONLN);
  const run_result info = run({d.native, "info"});
  if (info.status != 0) {
    std::fprintf(stderr, "rfutex bench: %s%s", info.err.c_str(),
                 info.err.empty() || info.err.back() == '\n' ? "" : "\n");
    return false;
  }
  for (const auto& w : lines_of(info.out)) {
    if (w.size() < 2) continue;
    if (w[0] == "strategy") r.strategy = w[1];
    if (w[0] == "best_strategy") r.best_strategy = w[1];
    if (w[0] == "glibc") r.glibc = w[1];
    if (w[0] == "variants") r.native_variants.insert(w.begin() + 1, w.end());
  }
  if (!d.musl.empty())
    for (const auto& w : lines_of(run({d.musl, "info"}).out))
      if (w.size() >= 3 && w[0] == "libc") r.musl = w[2];
  return true;
}

}  // namespace rfutex::tool::bench
