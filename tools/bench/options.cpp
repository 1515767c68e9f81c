// SPDX-License-Identifier: MIT
#include "options.hpp"

#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace rfutex::tool::bench {

const char* const help_text =
    "usage: rfutex bench [--json] [--quick] [--out DIR] [--rounds N]\n"
    "\n"
    "Measures, in one run, rfutex's robust mutex against glibc's default, robust,\n"
    "robust process-shared and robust PI mutexes, musl's robust mutex and the\n"
    "floor (one `lock cmpxchg` to lock, one to unlock):\n"
    "  - uncontended lock+unlock pairs (Google Benchmark; ns, and instructions per\n"
    "    pair under valgrind --tool=callgrind),\n"
    "  - two threads and two processes contending on one lock (total ops/s),\n"
    "  - munmap of a 1-page mapping through the unmap guard, with 2, 8 and 64\n"
    "    threads alive, against a plain munmap.\n"
    "Every measurement is repeated N rounds (default 7), the variants interleaved;\n"
    "the report gives medians with min/max and ratios measured in the same run.\n"
    "\n"
    "Without --json: prints a Markdown report and writes bench.md, bench.json and\n"
    "bench.png (gnuplot) to DIR (default ./bench-results).\n"
    "With --json: prints one JSON object (files only if --out is given).\n"
    "\n"
    "  --quick         a fast smoke run (5 short rounds, no callgrind)\n"
    "  --rounds N      repetitions (at least 5)\n"
    "  --no-instructions   skip callgrind\n"
    "\n"
    "musl-gcc, valgrind and gnuplot come from bench/setup (installed as\n"
    "libexec/rfutex/rfutex-bench-setup); a part whose tool is missing is skipped\n"
    "with a note. RFUTEX_UNLOCK selects the rfutex strategy measured; the drivers\n"
    "are looked up in $RFUTEX_BENCH_DIR, ../bench and ../libexec/rfutex relative\n"
    "to this program.\n";

bool parse_options(args a, options& o) {
  for (std::size_t i = 0; i < a.size(); ++i) {
    const std::string_view s = a[i];
    const auto value = [&]() -> const char* {
      if (i + 1 >= a.size()) return nullptr;
      return a[++i];
    };
    if (s == "--json") {
      o.json = true;
    } else if (s == "--quick") {
      o.quick = true;
    } else if (s == "--no-instructions") {
      o.instructions = false;
    } else if (s == "--out") {
      const char* v = value();
      if (v == nullptr) return false;
      o.out = v;
      o.out_given = true;
    } else if (s == "--rounds") {
      const char* v = value();
      if (v == nullptr) return false;
      o.rounds = std::atoi(v);
      if (o.rounds < 5) {
        std::fprintf(stderr, "rfutex bench: --rounds must be at least 5\n");
        return false;
      }
    } else {
      std::fprintf(stderr, "rfutex bench: unknown option '%s' (try --help)\n", a[i]);
      return false;
    }
  }
  if (o.quick) {
    o.min_time = 0.01;
    o.contended_ms = 20;
    o.munmap_samples = 50;
    o.instructions = false;
    o.rounds = 5;
  }
  return true;
}

}  // namespace rfutex::tool::bench
