// SPDX-License-Identifier: MIT
#include <unistd.h>

#include <string_view>

#include "report.hpp"
#include "stats.hpp"

namespace rfutex::tool::bench {

namespace fs = std::filesystem;

// Four panels, drawn by gnuplot from data files in `dir`.
bool write_chart(results& r, const fs::path& dir, const drivers& d) {
  const auto gnuplot = find_in_path("gnuplot");
  if (!gnuplot) {
    note(r, "no chart: gnuplot is not installed (run " + d.setup_hint + ")");
    return false;
  }
  const auto base = summarize(samples_or_empty(r.uncontended_ns, "glibc_default"));
  {
    std::FILE* f = std::fopen((dir / "uncontended.dat").c_str(), "w");
    if (f == nullptr) return false;
    std::fprintf(f, "# variant ratio ratio_min ratio_max median_ns instructions\n");
    for (const auto& v : uncontended_variants) {
      const auto s = summarize(samples_or_empty(r.uncontended_ns, v.name));
      if (!s || !base) continue;
      std::fprintf(f, "%s %.4f %.4f %.4f %.2f %s\n", v.name, s->median / base->median,
                   s->min / base->median, s->max / base->median, s->median,
                   fmt_opt(instructions_of(r, v.name), 0).c_str());
    }
    std::fclose(f);
  }
  {
    std::FILE* f = std::fopen((dir / "contended.dat").c_str(), "w");
    if (f == nullptr) return false;
    std::fprintf(f, "# variant threads/glibc_robust processes/glibc_robust_pshared (? = none)\n");
    for (const auto& v : contended_variants) {
      const auto ratio_in = [&](const char* mode, const char* baseline) -> std::optional<double> {
        const auto it = r.contended_by_round.find(mode);
        if (it == r.contended_by_round.end()) return std::nullopt;
        return median_of(paired_ratio(it->second, v.name, baseline));
      };
      if (std::string_view(v.name).ends_with("_read")) continue;  // another baseline
      const auto t = ratio_in("threads", "glibc_robust");
      const auto p = ratio_in("processes", "glibc_robust_pshared");
      if (!t && !p) continue;
      std::fprintf(f, "%s %s %s\n", v.name, t ? fmt(*t, 4).c_str() : "?",
                   p ? fmt(*p, 4).c_str() : "?");
    }
    std::fclose(f);
  }
  {
    std::FILE* f = std::fopen((dir / "munmap.dat").c_str(), "w");
    if (f == nullptr) return false;
    std::fprintf(f, "# threads overhead_ns overhead_min overhead_max\n");
    for (const auto& [threads, m] : r.munmap)
      if (const auto o = summarize(m.overhead))
        std::fprintf(f, "%d %.1f %.1f %.1f\n", threads, o->median, o->min, o->max);
    std::fclose(f);
  }
  {
    std::FILE* f = std::fopen((dir / "bench.gp").c_str(), "w");
    if (f == nullptr) return false;
    std::fprintf(f,
                 // The project's own results (bench/results/) are part of its
                 // tree, where every file names its license.
                 "# SPDX-License-Identifier: MIT\n"
                 "# gnuplot bench.gp (written by rfutex bench)\n"
                 "set terminal pngcairo size 1400,1000 font 'sans,10' noenhanced\n"
                 "set output 'bench.png'\n"
                 "set datafile missing '?'\n"
                 "set style fill solid 0.7 border -1\n"
                 "set grid ytics\n"
                 "set key top left opaque\n"
                 "set style data histogram\n"
                 "set xtics rotate by -25 scale 0\n"
                 "set yrange [0:*]\n"
                 "set multiplot layout 2,2 title 'rfutex bench: Linux %s, glibc %s, musl %s, "
                 "rfutex strategy %s, %d rounds'\n",
                 r.kernel.c_str(), r.glibc.c_str(), r.musl.empty() ? "-" : r.musl.c_str(),
                 r.strategy.c_str(), r.opt.rounds);
    std::fprintf(f,
                 "set title 'Uncontended lock+unlock: time / glibc default (median; min-max)'\n"
                 "set style histogram errorbars gap 1 lw 1\n"
                 "plot 'uncontended.dat' using 2:3:4:xtic(1) title '' lc rgb '#4477aa', "
                 "1 title 'glibc default' dt 2 lw 2 lc rgb 'black', "
                 "1.1 title 'target for rfutex_robust' dt 3 lw 2 lc rgb '#cc3311'\n"
                 "set title 'Uncontended lock+unlock: median ns per pair (instructions per pair)'\n"
                 "set style histogram clustered gap 1\n"
                 "plot 'uncontended.dat' using 5:xtic(1) title '' lc rgb '#66aa55', "
                 "'' using 0:5:(sprintf(\"%%.1f ns\\n%%s instr.\", $5, strcol(6))) with labels "
                 "font 'sans,8' offset 0,1.2 notitle\n"
                 "set key below\n"
                 "set title 'Contended, 2 workers on one lock: ops/s / glibc robust (median)'\n"
                 "plot 'contended.dat' using 2:xtic(1) title '2 threads (/ glibc_robust)' "
                 "lc rgb '#4477aa', '' using 3 title '2 processes (/ glibc_robust_pshared)' "
                 "lc rgb '#ee6677', 1 notitle dt 2 lw 2 lc rgb 'black'\n"
                 "set title 'What the unmap guard adds to munmap: ns (median; min-max)'\n"
                 "set xtics norotate\n"
                 "set xlabel 'threads alive'\n"
                 "set key inside top left\n"
                 "set style histogram errorbars gap 1 lw 1\n"
                 "plot 'munmap.dat' using 2:3:4:xtic(1) title 'rfutex::unmap - munmap' "
                 "lc rgb '#228833', 2000 title 'target at 8 threads' dt 3 lw 2 lc rgb '#cc3311'\n"
                 "unset multiplot\n");
    std::fclose(f);
  }
  const std::vector<std::string> argv = {*gnuplot, "bench.gp"};
  // gnuplot reads and writes relative to the directory: run it there.
  const std::string cwd = fs::current_path().string();
  if (chdir(dir.c_str()) != 0) return false;
  const run_result rr = run(argv);
  if (chdir(cwd.c_str()) != 0) return false;
  if (rr.status != 0) {
    note(r, "gnuplot failed: " + rr.err);
    return false;
  }
  return true;
}

}  // namespace rfutex::tool::bench
