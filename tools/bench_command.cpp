// SPDX-License-Identifier: MIT
// rfutex bench: rfutex's robust locks measured side by side with glibc's and
// musl's, in one run. The measurements happen in driver programs (bench/,
// docs/bench.md) that this command finds beside itself, runs in interleaved
// rounds (so that the noise of a busy machine hits every variant alike), and
// summarises: a Markdown table of ratios, JSON, a PNG chart. The parts live
// in tools/bench/: options, process (running the drivers), stats, results
// (what is measured), measure, targets, and the three reports.
#include <cstdio>
#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>

#include "bench/measure.hpp"
#include "bench/options.hpp"
#include "bench/report.hpp"
#include "commands.hpp"

namespace rfutex::tool {

namespace fs = std::filesystem;
using namespace bench;

int bench_command(args a) {
  for (const char* arg : a) {
    const std::string_view s = arg;
    if (s == "-h" || s == "--help") {
      std::fputs(bench::help_text, stdout);
      return 0;
    }
  }
  results r;
  if (!bench::parse_options(a, r.opt)) return 2;

  const auto dir = find_driver_dir();
  if (!dir) {
    std::fprintf(stderr,
                 "rfutex bench: the benchmark drivers (rfutex-bench-native, ...) are not beside "
                 "this program.\nInstall what they need (bench/setup), build them with the "
                 "release preset (RFUTEX_BUILD_BENCH=ON) and run that build's tools/rfutex, or "
                 "set RFUTEX_BENCH_DIR.\n");
    return 1;
  }
  drivers d;
  d.dir = *dir;
  d.native = (*dir / "rfutex-bench-native").string();
  const std::string setup = (*dir / "rfutex-bench-setup").string();
  d.setup_hint =
      is_executable(setup) ? "`sudo " + setup + "`" : "bench/setup from the rfutex sources";
  if (const auto musl = (*dir / "rfutex-bench-musl").string(); is_executable(musl)) d.musl = musl;
  if (const auto c = (*dir / "rfutex-bench-libc").string(); is_executable(c)) d.cdriver = c;

  if (!describe_system(r, d)) return 1;
  if (d.musl.empty())
    note(r,
         "musl_robust skipped: rfutex-bench-musl was not built (musl-gcc was missing at "
         "configure time); run " +
             d.setup_hint + ", then configure and build again");
  if (r.opt.quick) note(r, "--quick: short runs for a smoke test, no callgrind; do not quote");
  if (r.cpus < 2) note(r, "fewer than 2 CPUs: the contended runs mostly measure the scheduler");

  r.load_before = load_average();
  measure_uncontended(r, d);
  measure_instructions(r, d);
  measure_contended(r, d);
  measure_munmap(r, d);
  r.load_after = load_average();
  // (The load after includes this run's own workers.)
  if (r.load_before > 0.5 * static_cast<double>(r.cpus))
    note(r, "the machine was busy before the run (load average " + fmt(r.load_before, 1) + " on " +
                std::to_string(r.cpus) +
                " CPUs): the contended runs, which need both CPUs, suffer most");

  if (r.opt.json && !r.opt.out_given) {
    write_json(stdout, r, d);
    return r.failed ? 1 : 0;
  }
  std::error_code ec;
  const fs::path out = fs::absolute(r.opt.out);
  fs::create_directories(out, ec);
  if (ec) {
    std::fprintf(stderr, "rfutex bench: cannot create %s: %s\n", out.c_str(), ec.message().c_str());
    return 1;
  }
  const bool chart = write_chart(r, out, d);
  if (std::FILE* f = std::fopen((out / "bench.json").c_str(), "w")) {
    write_json(f, r, d);
    std::fclose(f);
  }
  if (std::FILE* f = std::fopen((out / "bench.md").c_str(), "w")) {
    write_markdown(f, r, d, chart ? "bench.png" : "");
    std::fclose(f);
  }
  if (r.opt.json) {
    write_json(stdout, r, d);
  } else {
    write_markdown(stdout, r, d, chart ? (out / "bench.png").string() : "");
    std::printf("\nWritten: %s/bench.md, bench.json%s\n", out.c_str(), chart ? ", bench.png" : "");
  }
  return r.failed ? 1 : 0;
}

}  // namespace rfutex::tool
