// SPDX-License-Identifier: MIT
// rfutex torture: see torture/torture.hpp for what a storm does.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "commands.hpp"
#include "torture/torture.hpp"

namespace rfutex::tool {

namespace {

constexpr const char* usage_text =
    "usage: rfutex torture [--seconds S] [--kills N] [--seed X] [--workers W]\n"
    "                      [--threads T] [--unmap rfutex|raw] [--stall-limit S]\n"
    "                      [--soak] [--json] [--quiet]\n"
    "\n"
    "A kill storm: W worker processes of T threads hammer robust_mutex,\n"
    "robust_pi_mutex and robust_condition_variable (a producer/consumer queue) in\n"
    "shared memory, each lock guarding data with an invariant and a journal; lock\n"
    "regions are unmapped and replaced by unrelated files at the same address;\n"
    "this process SIGKILLs workers, preferring moments when a thread holds a lock\n"
    "or is inside lock/unlock, and respawns them. Then a quiet phase without\n"
    "kills, a drain, and the checks: invariants, every holder's death reported as\n"
    "owner_died exactly once, no byte of a replacement file changed, no thread\n"
    "stuck (a sleeper nobody will wake fails the run at once), no unexpected exit.\n"
    "\n"
    "  --seconds S      stop killing after S seconds (default 10; 0: no limit)\n"
    "  --kills N        stop killing after N kills (default: no limit; given\n"
    "                   alone, there is no time limit)\n"
    "  --seed X         seed of every random choice (default 1)\n"
    "  --workers W      worker processes (default 4)\n"
    "  --threads T      threads per worker, at least 3 (default 4)\n"
    "  --unmap MODE     rfutex: regions go through rfutex::unmap / map_fixed\n"
    "                   (default); raw: bare munmap/mmap system calls, no guard\n"
    "  --stall-limit S  how long a live thread may go without progress (default 5)\n"
    "  --soak           100000 kills, no time limit (unless given)\n"
    "  --json           one JSON object instead of the result line\n"
    "  --quiet          no progress line (it is shown only on a terminal anyway)\n"
    "\n"
    "Prints one result line (or JSON). Exit status: 0 PASS, 1 FAIL, 2 bad arguments.\n";

bool parse_number(std::string_view v, double lo, double hi, double& out) {
  const std::string s(v);
  char* end = nullptr;
  out = std::strtod(s.c_str(), &end);
  return !s.empty() && *end == '\0' && out >= lo && out <= hi;
}

}  // namespace

int torture_command(args a) {
  torture::options o;
  bool seconds_given = false, kills_given = false, soak = false, quiet = false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const std::string_view s = a[i];
    auto value = [&]() -> std::string_view { return i + 1 < a.size() ? a[++i] : ""; };
    double v = 0;
    auto bad = [&](const char* what) {
      std::fprintf(stderr, "rfutex torture: %s (try --help)\n", what);
      return 2;
    };
    if (s == "--seconds") {
      if (!parse_number(value(), 0, 1e7, v)) return bad("--seconds takes a number of seconds >= 0");
      o.seconds = v;
      seconds_given = true;
    } else if (s == "--kills") {
      if (!parse_number(value(), 0, 1e9, v)) return bad("--kills takes a count >= 0");
      o.kills = static_cast<long>(v);
      kills_given = true;
    } else if (s == "--seed") {
      if (!parse_number(value(), 0, 1.8e19, v)) return bad("--seed takes a number");
      o.seed = static_cast<std::uint64_t>(v);
    } else if (s == "--workers") {
      if (!parse_number(value(), 1, 64, v)) return bad("--workers takes 1 to 64");
      o.workers = static_cast<int>(v);
    } else if (s == "--threads") {
      if (!parse_number(value(), 3, 64, v)) return bad("--threads takes 3 to 64");
      o.threads = static_cast<int>(v);
    } else if (s == "--stall-limit") {
      if (!parse_number(value(), 0.1, 3600, v)) return bad("--stall-limit takes 0.1 to 3600 seconds");
      o.stall_limit = v;
    } else if (s == "--unmap") {
      const std::string_view m = value();
      if (m == "rfutex")
        o.unmap = torture::unmap_mode::rfutex;
      else if (m == "raw")
        o.unmap = torture::unmap_mode::raw;
      else
        return bad("--unmap takes rfutex or raw");
    } else if (s == "--soak") {
      soak = true;
    } else if (s == "--json") {
      o.json = true;
    } else if (s == "--quiet") {
      quiet = true;
    } else if (s == "-h" || s == "--help") {
      std::fputs(usage_text, stdout);
      return 0;
    } else {
      std::fprintf(stderr, "rfutex torture: unknown option '%s' (try --help)\n", a[i]);
      return 2;
    }
  }
  if (soak && !kills_given) o.kills = 100000;
  if ((soak || kills_given) && !seconds_given) o.seconds = 0;
  o.progress = !quiet && !o.json && ::isatty(STDOUT_FILENO) == 1;

  const torture::result r = torture::run_storm(o);
  if (o.json)
    torture::print_result_json(r);
  else
    torture::print_result_line(r);
  return r.pass ? 0 : 1;
}

}  // namespace rfutex::tool
