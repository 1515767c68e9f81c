// rfutex bench: rfutex's robust mutex measured side by side with glibc's and
// musl's mutexes, in one run. The measurements happen in driver programs
// (bench/, docs/bench.md) that this command finds beside itself, runs in
// interleaved rounds (so that the noise of a busy machine hits every variant
// alike), and summarises: a Markdown table of ratios, JSON, a PNG chart.
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "commands.hpp"
#include "json_writer.hpp"

extern char** environ;

namespace rfutex::tool {

namespace {

namespace fs = std::filesystem;

// ---------------------------------------------------------------------------
// Options

struct options {
  bool json = false;
  bool quick = false;
  bool out_given = false;
  std::string out = "bench-results";
  int rounds = 7;            // repetitions of every measurement, interleaved
  double min_time = 0.15;    // seconds per Google Benchmark run
  int contended_ms = 150;    // per contended run
  int munmap_samples = 400;  // munmap calls of each kind per run
  bool instructions = true;  // callgrind
};

constexpr const char* help_text =
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

// ---------------------------------------------------------------------------
// Running the drivers

struct run_result {
  int status = -1;  // exit status, or 128 + signal
  std::string out, err;
};

std::string join(const std::vector<std::string>& argv) {
  std::string s;
  for (const auto& a : argv) s += (s.empty() ? "" : " ") + a;
  return s;
}

run_result run(const std::vector<std::string>& argv,
               const std::vector<std::string>& env_extra = {}) {
  int out_pipe[2], err_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0 || pipe2(err_pipe, O_CLOEXEC) != 0)
    throw std::system_error(errno, std::generic_category(), "pipe2");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);

  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string_view entry = *e;
    const bool overridden =
        std::any_of(env_extra.begin(), env_extra.end(), [&](const std::string& x) {
          const auto eq = x.find('=');
          return entry.substr(0, eq + 1) == std::string_view(x).substr(0, eq + 1);
        });
    if (!overridden) env_strings.emplace_back(entry);
  }
  env_strings.insert(env_strings.end(), env_extra.begin(), env_extra.end());
  std::vector<char*> envp, args;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> argv_copy = argv;
  for (auto& s : argv_copy) args.push_back(s.data());
  args.push_back(nullptr);

  pid_t pid = -1;
  const int spawn_error = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  close(out_pipe[1]);
  close(err_pipe[1]);
  run_result r;
  if (spawn_error != 0) {
    close(out_pipe[0]);
    close(err_pipe[0]);
    r.status = 127;
    r.err = std::string("cannot run ") + argv[0] + ": " + std::strerror(spawn_error);
    return r;
  }
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  std::string* sinks[2] = {&r.out, &r.err};
  int open_count = 2;
  char buf[4096];
  while (open_count > 0) {
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      const ssize_t n = read(fds[i].fd, buf, sizeof buf);
      if (n > 0) {
        sinks[i]->append(buf, static_cast<std::size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open_count;
      }
    }
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

std::vector<std::vector<std::string>> lines_of(const std::string& text) {
  std::vector<std::vector<std::string>> lines;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    std::vector<std::string> w;
    for (std::string s; words >> s;) w.push_back(s);
    if (!w.empty()) lines.push_back(std::move(w));
  }
  return lines;
}

bool is_executable(const std::string& path) { return access(path.c_str(), X_OK) == 0; }

// The 1-minute load average, -1 if unknown.
double load_average() {
  double load = -1;
  if (std::FILE* f = std::fopen("/proc/loadavg", "re")) {
    if (std::fscanf(f, "%lf", &load) != 1) load = -1;
    std::fclose(f);
  }
  return load;
}

std::optional<std::string> find_in_path(const std::string& program) {
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path != nullptr ? path : "/usr/bin:/bin");
  for (std::string dir; std::getline(dirs, dir, ':');) {
    if (dir.empty()) continue;
    const std::string candidate = dir + "/" + program;
    if (is_executable(candidate)) return candidate;
  }
  return std::nullopt;
}

// Where the drivers are: $RFUTEX_BENCH_DIR, else beside this program in the
// build tree (tools/../bench) or an installed prefix (bin/../libexec/rfutex).
std::optional<fs::path> find_driver_dir() {
  if (const char* dir = std::getenv("RFUTEX_BENCH_DIR"); dir != nullptr && *dir != '\0')
    return fs::path(dir);
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (ec) return std::nullopt;
  for (const char* relative : {"../libexec/rfutex", "../bench"}) {
    const fs::path dir = (self.parent_path() / relative).lexically_normal();
    if (is_executable((dir / "rfutex-bench-native").string())) return dir;
  }
  return std::nullopt;
}

// ---------------------------------------------------------------------------
// Statistics

struct stats {
  double median = 0, min = 0, max = 0;
  std::size_t n = 0;
};

std::optional<stats> summarize(std::vector<double> v) {
  if (v.empty()) return std::nullopt;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return stats{n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2, v.front(), v.back(), n};
}

std::optional<double> ratio(const std::optional<stats>& a, const std::optional<stats>& b) {
  if (!a || !b || b->median <= 0) return std::nullopt;
  return a->median / b->median;
}

// The ratio of the fastest runs: on a busy machine noise only ever adds time.
std::optional<double> min_ratio(const std::optional<stats>& a, const std::optional<stats>& b) {
  if (!a || !b || b->min <= 0) return std::nullopt;
  return a->min / b->min;
}

std::optional<double> median_of(const std::optional<stats>& s) {
  if (!s) return std::nullopt;
  return s->median;
}

// name / base, taken within each round where both were measured.
std::optional<stats> paired_ratio(const std::map<std::string, std::map<int, double>>& by_round,
                                  const std::string& name, const std::string& base) {
  const auto a = by_round.find(name), b = by_round.find(base);
  if (a == by_round.end() || b == by_round.end()) return std::nullopt;
  std::vector<double> ratios;
  for (const auto& [round, value] : a->second) {
    const auto other = b->second.find(round);
    if (other != b->second.end() && other->second > 0) ratios.push_back(value / other->second);
  }
  return summarize(ratios);
}

// ---------------------------------------------------------------------------
// What is measured

// The uncontended variants, in report order. `source` says which driver
// measures it and under which name.
enum class source : unsigned char { native, musl };

struct variant {
  const char* name;
  source from;
  const char* driver_name;  // the driver's name for it
  const char* description;
};

constexpr variant uncontended_variants[] = {
    {"glibc_default", source::native, "glibc_default", "pthread_mutex_t, default attributes"},
    {"glibc_robust", source::native, "glibc_robust", "PTHREAD_MUTEX_ROBUST"},
    {"glibc_robust_pshared", source::native, "glibc_robust_pshared",
     "PTHREAD_MUTEX_ROBUST + PTHREAD_PROCESS_SHARED"},
    {"glibc_robust_pi", source::native, "glibc_robust_pi",
     "PTHREAD_MUTEX_ROBUST + PTHREAD_PRIO_INHERIT"},
    {"musl_robust", source::musl, "robust_pshared",
     "musl PTHREAD_MUTEX_ROBUST + PTHREAD_PROCESS_SHARED (static binary)"},
    {"rfutex_robust", source::native, "rfutex_robust", "rfutex::robust_mutex"},
    {"rfutex_robust_pi", source::native, "rfutex_robust_pi",
     "rfutex::robust_pi_mutex (where this build has it)"},
    {"floor", source::native, "floor", "lock cmpxchg to lock + lock cmpxchg to unlock"},
    // Not in the list: the bound rfutex_robust is measured against.
    {"minimal_robust", source::native, "minimal_robust",
     "rfutex's guarded protocol alone, inline, for glibc's x86_64 list: a bound, not a lock"},
};

struct contended_variant {
  const char* name;
  source from;
  const char* driver_name;
  bool threads, processes;  // measured in that mode
  bool pshared_in_threads;  // process-shared futex operations even between threads
};

// Between processes every variant is process-shared.
constexpr contended_variant contended_variants[] = {
    {"glibc_default", source::native, "glibc_default", true, true, false},
    {"glibc_robust", source::native, "glibc_robust", true, false, false},  // private: threads only
    {"glibc_robust_pshared", source::native, "glibc_robust_pshared", true, true, true},
    {"glibc_robust_pi", source::native, "glibc_robust_pi", true, true, false},
    {"musl_robust", source::musl, "robust_pshared", true, true, true},
    {"rfutex_robust", source::native, "rfutex_robust", true, true, true},  // always shared futexes
    {"rfutex_robust_pi", source::native, "rfutex_robust_pi", true, true, true},
};

constexpr int munmap_thread_counts[] = {2, 8, 64};

struct results {
  // Context.
  std::string kernel, machine, strategy = "unknown", best_strategy = "unknown";
  std::string glibc, musl;
  long cpus = 0;
  double load_before = -1, load_after = -1;  // 1-minute load average
  options opt;
  // name -> samples
  std::map<std::string, std::vector<double>> uncontended_ns;
  std::map<std::string, double> instructions;
  std::map<std::string, std::vector<double>> contended_threads, contended_processes;
  // The same, by round: ratios are taken within a round (the variants ran back
  // to back), because throughput swings from round to round on a busy machine.
  std::map<std::string, std::map<int, double>> contended_threads_by_round,
      contended_processes_by_round;
  struct munmap_run {
    std::vector<double> plain, guarded, overhead, scrub_hot, scrub_cold;
    std::size_t guarded_threads = 0;
  };
  std::map<int, munmap_run> munmap;
  std::vector<double> cdriver_ns;  // glibc robust pshared through the C driver
  std::optional<double> cdriver_instructions;
  std::vector<std::string> notes;
  std::set<std::string> native_variants;  // what rfutex-bench-native can measure
  bool failed = false;
};

void note(results& r, const std::string& text) {
  std::fprintf(stderr, "rfutex bench: note: %s\n", text.c_str());
  r.notes.push_back(text);
}

void failure(results& r, const std::vector<std::string>& argv, const run_result& rr) {
  r.failed = true;
  std::fprintf(stderr, "rfutex bench: `%s` failed (status %d):\n%s%s", join(argv).c_str(),
               rr.status, rr.err.c_str(), rr.err.empty() || rr.err.back() == '\n' ? "" : "\n");
  r.notes.push_back("`" + join(argv) + "` failed (status " + std::to_string(rr.status) + ")");
}

// ---------------------------------------------------------------------------
// The measurements

struct drivers {
  fs::path dir;
  std::string native, musl, cdriver;  // empty: not available
  std::string setup_hint;
};

double number(const std::string& s) { return std::strtod(s.c_str(), nullptr); }

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
    for (const char* mode : {"threads", "processes"}) {
      const bool threads = std::string_view(mode) == "threads";
      std::vector<std::string> native_names;
      for (const auto& v : contended_variants)
        if (v.from == source::native && (threads ? v.threads : v.processes) &&
            r.native_variants.count(v.driver_name) != 0)
          native_names.emplace_back(v.driver_name);
      std::rotate(native_names.begin(),
                  native_names.begin() + round % static_cast<int>(native_names.size()),
                  native_names.end());
      std::vector<std::vector<std::string>> jobs;
      std::vector<std::string> native_job = {d.native, "contended", mode, ms};
      native_job.insert(native_job.end(), native_names.begin(), native_names.end());
      jobs.push_back(native_job);
      if (!d.musl.empty()) jobs.push_back({d.musl, "contended", mode, ms, "robust_pshared"});
      if (round % 2 == 1) std::reverse(jobs.begin(), jobs.end());
      auto& into = threads ? r.contended_threads : r.contended_processes;
      auto& by_round = threads ? r.contended_threads_by_round : r.contended_processes_by_round;
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

// False when the native driver cannot run, or rfutex cannot lock at all here
// (RFUTEX_UNLOCK names a strategy the kernel lacks): nothing to measure.
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

// ---------------------------------------------------------------------------
// Targets (issue 5)

struct target {
  std::string what, goal;
  std::optional<double> value;  // measured
  double limit;
  bool at_most;  // value <= limit passes (else value >= limit)
  std::string unit;
  std::optional<double> fastest = std::nullopt;  // the ratio of the fastest runs (uncontended)
};

std::vector<target> targets_of(const results& r) {
  const auto u = [&](const char* name) {
    return summarize(r.uncontended_ns.count(name) ? r.uncontended_ns.at(name)
                                                  : std::vector<double>{});
  };
  std::optional<double> overhead8;
  if (r.munmap.count(8) != 0)
    if (const auto s = summarize(r.munmap.at(8).overhead)) overhead8 = s->median;
  return {
      {"uncontended rfutex_robust / glibc_default", "<= 1.10",
       ratio(u("rfutex_robust"), u("glibc_default")), 1.10, true, "x",
       min_ratio(u("rfutex_robust"), u("glibc_default"))},
      {"uncontended rfutex_robust / glibc_robust", "<= 0.85",
       ratio(u("rfutex_robust"), u("glibc_robust")), 0.85, true, "x",
       min_ratio(u("rfutex_robust"), u("glibc_robust"))},
      {"uncontended rfutex_robust / musl_robust", "<= 0.60",
       ratio(u("rfutex_robust"), u("musl_robust")), 0.60, true, "x",
       min_ratio(u("rfutex_robust"), u("musl_robust"))},
      {"2 threads: rfutex_robust / glibc_robust ops/s", ">= 1.00",
       median_of(paired_ratio(r.contended_threads_by_round, "rfutex_robust", "glibc_robust")), 1.0,
       false, "x"},
      {"2 processes: rfutex_robust / glibc_robust_pshared ops/s", ">= 1.00",
       median_of(
           paired_ratio(r.contended_processes_by_round, "rfutex_robust", "glibc_robust_pshared")),
       1.0, false, "x"},
      {"guarded munmap overhead, 8 threads", "<= 2000 ns", overhead8, 2000, true, "ns"},
  };
}

bool met(const target& t) {
  return t.value && (t.at_most ? *t.value <= t.limit : *t.value >= t.limit);
}

// "missed by 12%" / "met, 5% to spare"
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

// ---------------------------------------------------------------------------
// Output

void opt_field(json_writer& j, std::string_view key, const std::optional<double>& v) {
  if (v && std::isfinite(*v))
    j.field(key, *v);
  else
    j.null_field(key);
}

const std::vector<double>& samples_or_empty(const std::map<std::string, std::vector<double>>& m,
                                            const std::string& name) {
  static const std::vector<double> none;
  const auto it = m.find(name);
  return it == m.end() ? none : it->second;
}

std::optional<double> instructions_of(const results& r, const std::string& name) {
  const auto it = r.instructions.find(name);
  if (it == r.instructions.end()) return std::nullopt;
  return it->second;
}

std::string reason_missing(const results& r, const variant& v, const drivers& d) {
  if (v.from == source::native && r.native_variants.count(v.driver_name) == 0)
    return std::string("absent: rfutex-bench-native was built without it") +
           (std::string_view(v.name) == "rfutex_robust_pi"
                ? " (no rfutex/robust_pi_mutex.hpp: rfutex has no PI lock yet)"
                : "");
  if (v.from == source::musl && d.musl.empty())
    return "skipped: the musl driver was not built (musl-gcc missing; run " + d.setup_hint +
           ", then configure and build again)";
  return "no result (a driver failed)";
}

void write_json(std::FILE* out, const results& r, const drivers& d) {
  json_writer j(out);
  const auto base = summarize(samples_or_empty(r.uncontended_ns, "glibc_default"));
  const auto robust = summarize(samples_or_empty(r.uncontended_ns, "glibc_robust"));
  j.begin_object();
  j.field("kernel", r.kernel);
  j.field("machine", r.machine);
  j.field("cpus", static_cast<std::int64_t>(r.cpus));
  j.begin_object("load_average")
      .field("before", r.load_before)
      .field("after", r.load_after)
      .end_object();
  j.field("strategy", r.strategy);
  j.field("best_strategy", r.best_strategy);
  j.begin_object("libc").field("glibc", r.glibc);
  if (r.musl.empty())
    j.null_field("musl");
  else
    j.field("musl", r.musl);
  j.end_object();
  j.begin_object("method")
      .field("rounds", static_cast<std::int64_t>(r.opt.rounds))
      .field("quick", r.opt.quick)
      .field("benchmark_min_time_s", r.opt.min_time)
      .field("contended_ms", static_cast<std::int64_t>(r.opt.contended_ms))
      .field("munmap_samples", static_cast<std::int64_t>(r.opt.munmap_samples))
      .field("uncontended",
             "Google Benchmark (musl: the C driver, same iteration rule), "
             "real time per lock+unlock pair, a second thread alive; one run "
             "per variant per round, rounds interleaved")
      .field("instructions",
             "valgrind --tool=callgrind, (Ir(220000 pairs) - Ir(20000 pairs)) "
             "/ 200000, loop overhead included")
      .field("contended",
             "total lock+unlock ops/s of 2 workers on one lock in a memfd "
             "mapping; every pthread mutex is process-shared in processes mode; "
             "ratios are medians of per-round ratios")
      .field("munmap_guard",
             "median of per-call times of munmap vs rfutex::unmap of a fresh "
             "populated 1-page mapping, calls alternated; threads registered "
             "with the guard and blocked; scrub_ns: scrub_pending alone right "
             "after a munmap, scrub_hot_ns: back to back")
      .end_object();

  j.begin_array("uncontended");
  std::vector<variant> rows(std::begin(uncontended_variants), std::end(uncontended_variants));
  if (r.uncontended_ns.count("rfutex_robust_guarded") != 0)
    rows.push_back({"rfutex_robust_guarded", source::native, "rfutex_robust",
                    "rfutex::robust_mutex with RFUTEX_UNLOCK=guarded"});
  for (const auto& v : rows) {
    const auto s = summarize(samples_or_empty(r.uncontended_ns, v.name));
    j.begin_object().field("name", v.name);
    opt_field(j, "median_ns", s ? std::optional(s->median) : std::nullopt);
    opt_field(j, "min_ns", s ? std::optional(s->min) : std::nullopt);
    opt_field(j, "max_ns", s ? std::optional(s->max) : std::nullopt);
    j.field("repetitions", static_cast<std::int64_t>(s ? s->n : 0));
    opt_field(j, "ratio_to_glibc_default", ratio(s, base));
    opt_field(j, "ratio_to_glibc_robust", ratio(s, robust));
    opt_field(j, "ratio_of_minima_to_glibc_default", min_ratio(s, base));
    opt_field(j, "instructions", instructions_of(r, v.name));
    if (std::string_view(v.name).starts_with("rfutex_robust") && s)
      j.field("strategy", std::string_view(v.name) == "rfutex_robust_guarded"
                              ? std::string("guarded")
                              : r.strategy);
    j.field("what", v.description);
    if (!s) j.field("absent", true).field("note", reason_missing(r, v, d));
    j.end_object();
  }
  j.end_array();

  j.begin_array("contended");
  for (const char* mode : {"threads", "processes"}) {
    const bool threads = std::string_view(mode) == "threads";
    const auto& m = threads ? r.contended_threads : r.contended_processes;
    const auto& by_round = threads ? r.contended_threads_by_round : r.contended_processes_by_round;
    const char* baseline = threads ? "glibc_robust" : "glibc_robust_pshared";
    for (const auto& v : contended_variants) {
      if (!(threads ? v.threads : v.processes)) continue;
      const auto s = summarize(samples_or_empty(m, v.name));
      j.begin_object().field("name", v.name).field("mode", mode);
      opt_field(j, "ops_per_s", s ? std::optional(s->median) : std::nullopt);
      opt_field(j, "min_ops_per_s", s ? std::optional(s->min) : std::nullopt);
      opt_field(j, "max_ops_per_s", s ? std::optional(s->max) : std::nullopt);
      j.field("repetitions", static_cast<std::int64_t>(s ? s->n : 0));
      j.field("baseline", baseline);
      const auto pr = paired_ratio(by_round, v.name, baseline);
      opt_field(j, "ratio_to_baseline", median_of(pr));
      opt_field(j, "ratio_min", pr ? std::optional(pr->min) : std::nullopt);
      opt_field(j, "ratio_max", pr ? std::optional(pr->max) : std::nullopt);
      j.field("pshared", !threads || v.pshared_in_threads);
      if (!s) {
        const variant* uv = nullptr;
        for (const auto& x : uncontended_variants)
          if (std::string_view(x.name) == v.name) uv = &x;
        j.field("absent", true).field("note", uv ? reason_missing(r, *uv, d) : "");
      }
      j.end_object();
    }
  }
  j.end_array();

  j.begin_array("munmap_guard");
  for (const int threads : munmap_thread_counts) {
    const auto it = r.munmap.find(threads);
    j.begin_object().field("threads", static_cast<std::int64_t>(threads));
    const results::munmap_run empty;
    const auto& m = it != r.munmap.end() ? it->second : empty;
    const auto plain = summarize(m.plain), guarded = summarize(m.guarded),
               overhead = summarize(m.overhead), hot = summarize(m.scrub_hot),
               cold = summarize(m.scrub_cold);
    j.field("guarded_thread_count", static_cast<std::int64_t>(m.guarded_threads));
    opt_field(j, "plain_ns", plain ? std::optional(plain->median) : std::nullopt);
    opt_field(j, "guarded_ns", guarded ? std::optional(guarded->median) : std::nullopt);
    opt_field(j, "overhead_ns", overhead ? std::optional(overhead->median) : std::nullopt);
    opt_field(j, "overhead_min_ns", overhead ? std::optional(overhead->min) : std::nullopt);
    opt_field(j, "overhead_max_ns", overhead ? std::optional(overhead->max) : std::nullopt);
    opt_field(j, "scrub_ns", cold ? std::optional(cold->median) : std::nullopt);
    opt_field(j, "scrub_hot_ns", hot ? std::optional(hot->median) : std::nullopt);
    j.field("repetitions", static_cast<std::int64_t>(overhead ? overhead->n : 0));
    j.end_object();
  }
  j.end_array();

  {
    const auto gb = summarize(samples_or_empty(r.uncontended_ns, "glibc_robust_pshared"));
    const auto cd = summarize(r.cdriver_ns);
    j.begin_object("harness_check")
        .field("what",
               "glibc_robust_pshared timed by Google Benchmark and by the C driver "
               "that times musl (same source, built against glibc)");
    opt_field(j, "google_benchmark_ns", gb ? std::optional(gb->median) : std::nullopt);
    opt_field(j, "c_driver_ns", cd ? std::optional(cd->median) : std::nullopt);
    opt_field(j, "ratio", ratio(cd, gb));
    opt_field(j, "google_benchmark_instructions", instructions_of(r, "glibc_robust_pshared"));
    opt_field(j, "c_driver_instructions", r.cdriver_instructions);
    j.end_object();
  }

  j.begin_array("targets");
  for (const auto& t : targets_of(r)) {
    j.begin_object().field("what", t.what).field("goal", t.goal);
    opt_field(j, "measured", t.value);
    if (t.fastest) opt_field(j, "measured_fastest_runs", t.fastest);
    if (t.value)
      j.field("met", met(t));
    else
      j.null_field("met");
    j.field("verdict", verdict(t));
    j.end_object();
  }
  j.end_array();

  j.begin_array("notes");
  for (const auto& n : r.notes) j.field({}, n);
  j.end_array();
  j.end_object();
  j.finish();
}

// v with `decimals` decimals.
std::string fmt(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

std::string fmt_opt(const std::optional<double>& v, int decimals, const char* unit = "") {
  return v ? fmt(*v, decimals) + unit : "—";
}

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

  std::fprintf(out, "### Contended: 2 threads / 2 processes on one lock\n\n");
  std::fprintf(out,
               "| variant | threads Mops/s (min–max) | × glibc_robust (min–max) | processes Mops/s "
               "(min–max) | × glibc_robust_pshared (min–max) |\n|---|--:|--:|--:|--:|\n");
  for (const auto& v : contended_variants) {
    const auto t = summarize(samples_or_empty(r.contended_threads, v.name));
    const auto p = summarize(samples_or_empty(r.contended_processes, v.name));
    const auto cell = [](const std::optional<stats>& s) {
      return s ? fmt(s->median / 1e6, 2) + " (" + fmt(s->min / 1e6, 2) + "–" +
                     fmt(s->max / 1e6, 2) + ")"
               : std::string("—");
    };
    const auto ratio_cell = [](const std::optional<stats>& s) {
      return s ? fmt(s->median, 2) + " (" + fmt(s->min, 2) + "–" + fmt(s->max, 2) + ")"
               : std::string("—");
    };
    std::fprintf(
        out, "| %s | %s | %s | %s | %s |\n", v.name, cell(t).c_str(),
        ratio_cell(paired_ratio(r.contended_threads_by_round, v.name, "glibc_robust")).c_str(),
        cell(p).c_str(),
        ratio_cell(paired_ratio(r.contended_processes_by_round, v.name, "glibc_robust_pshared"))
            .c_str());
  }
  std::fprintf(out,
               "\nRatios: median (min–max) over rounds of the ratio within a round. Between "
               "processes every pthread mutex is process-shared (glibc_default too); "
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

// The chart: four panels, drawn by gnuplot from data files in `dir`.
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
      const auto t = median_of(paired_ratio(r.contended_threads_by_round, v.name, "glibc_robust"));
      const auto p =
          median_of(paired_ratio(r.contended_processes_by_round, v.name, "glibc_robust_pshared"));
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

}  // namespace

int bench_command(args a) {
  for (const char* arg : a) {
    const std::string_view s = arg;
    if (s == "-h" || s == "--help") {
      std::fputs(help_text, stdout);
      return 0;
    }
  }
  results r;
  if (!parse_options(a, r.opt)) return 2;

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
