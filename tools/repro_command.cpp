// SPDX-License-Identifier: MIT
// rfutex repro: see repro/repro.hpp for what one run does.
#include <sys/utsname.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <cstdint>
#include <vector>

#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "repro/repro.hpp"

namespace rfutex::tool {

namespace {

// An address as "0x..." (JSON has no pointers), null for none.
nlohmann::json pointer(std::uintptr_t p) {
  if (p == 0) return nullptr;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%p", reinterpret_cast<const void*>(p));
  return buf;
}

}  // namespace

namespace {

using namespace repro;

constexpr const char* usage_text =
    "usage: rfutex repro [--unlock glibc|rfutex|rfutex-kernel|rfutex-guarded]\n"
    "                    [--remap rfutex|libc|raw] [--runs N] [--json] [--verbose]\n"
    "\n"
    "Reproduces the robust-unlock race on the running kernel: a thread U unlocks\n"
    "a robust mutex in a shared file page while this process single-steps it with\n"
    "ptrace until the lock word reads 0; another thread H of U's process replaces\n"
    "the page by a second file whose word there holds U's TID; then U's process is\n"
    "SIGKILLed and the second file compared with what was written.\n"
    "\n"
    "  --unlock  glibc: pthread_mutex_unlock of a robust pthread mutex;\n"
    "            rfutex: rfutex::robust_mutex with the strategy rfutex picks;\n"
    "            rfutex-kernel / rfutex-guarded: that strategy forced\n"
    "  --remap   rfutex: H uses rfutex::unmap + rfutex::map_fixed (guarded);\n"
    "            libc: plain munmap + mmap(MAP_FIXED) (guarded only under\n"
    "            LD_PRELOAD=librfutex-guard.so); raw: direct syscalls (never guarded)\n"
    "  --runs    how many times (default 10)\n"
    "\n"
    "Exit status: 0 when every run came out as expected for that mode on this\n"
    "kernel, 1 when one did not, 2 for bad arguments, 3 when the mode cannot run\n"
    "here (e.g. rfutex-kernel before Linux 7.2).\n";

std::string self_path() {
  char buf[4096];
  const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
}

std::string kernel_release() {
  struct utsname u {};
  return ::uname(&u) == 0 ? u.release : "unknown";
}

std::string verdict(const run_evidence& ev) {
  if (!ev.completed) return "error: " + ev.failure;
  if (!ev.corrupted()) return "intact";
  std::string s = "CORRUPTED:";
  char buf[64];
  for (const auto& c : ev.changes) {
    std::snprintf(buf, sizeof buf, " offset %zu 0x%08x -> 0x%08x", c.offset, c.before, c.after);
    s += buf;
  }
  return s;
}

void print_run(int index, const run_evidence& ev) {
  std::printf("run %d: %s", index, verdict(ev).c_str());
  if (ev.completed)
    std::printf("  (word 0 after %ld steps, ip %#lx%s; list_op_pending %s)", ev.steps,
                static_cast<unsigned long>(ev.ip), ev.ip_in_vdso ? " in the vDSO" : "",
                ev.pending_at_stop == 0   ? "already clear"
                : ev.pending_at_kill == 0 ? "still set, then cleared by the guard before the remap"
                                          : "still set when killed");
  std::printf("\n");
}

}  // namespace

int repro_command(args a) {
  unlock_mode unlock = unlock_mode::glibc;
  remap_mode remap = remap_mode::libc;
  long runs = 10;
  bool json = false, verbose = false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const std::string_view s = a[i];
    auto value = [&]() -> std::string_view { return i + 1 < a.size() ? a[++i] : ""; };
    if (s == "--unlock") {
      const auto m = parse_unlock(value());
      if (!m) return std::fprintf(stderr, "rfutex repro: bad --unlock (try --help)\n"), 2;
      unlock = *m;
    } else if (s == "--remap") {
      const auto m = parse_remap(value());
      if (!m) return std::fprintf(stderr, "rfutex repro: bad --remap (try --help)\n"), 2;
      remap = *m;
    } else if (s == "--runs") {
      char* end = nullptr;
      const std::string v(value());
      runs = std::strtol(v.c_str(), &end, 10);
      if (v.empty() || *end != '\0' || runs < 1 || runs > 100000)
        return std::fprintf(stderr, "rfutex repro: --runs takes a number from 1 to 100000\n"), 2;
    } else if (s == "--json") {
      json = true;
    } else if (s == "--verbose") {
      verbose = true;
    } else if (s == "-h" || s == "--help") {
      std::fputs(usage_text, stdout);
      return 0;
    } else {
      std::fprintf(stderr, "rfutex repro: unknown option '%s' (try --help)\n", a[i]);
      return 2;
    }
  }

  const std::string self = self_path();
  run_context context;
  std::vector<run_evidence> results;
  long corrupted = 0, mismatched = 0;
  bool expected = false;
  for (long r = 0; r < runs; ++r) {
    results.push_back(run_once(self, unlock, remap, context));
    const run_evidence& ev = results.back();
    if (!ev.completed) {
      if (json) {
        const nlohmann::json j = {{"unlock", name_of(unlock)},
                                  {"remap", name_of(remap)},
                                  {"kernel", kernel_release()},
                                  {"error", ev.failure}};
        std::printf("%s\n", j.dump().c_str());
      } else {
        std::fprintf(stderr, "rfutex repro: %s\n", ev.failure.c_str());
      }
      return 3;
    }
    expected = expect_corruption(unlock, remap, context);
    if (ev.corrupted()) ++corrupted;
    if (ev.corrupted() != expected) ++mismatched;
  }

  if (json) {
    nlohmann::json evidence = nlohmann::json::array();
    for (const auto& ev : results)
      evidence.push_back({{"steps", ev.steps},
                          {"ip", pointer(ev.ip)},
                          {"ip_in_vdso", ev.ip_in_vdso},
                          {"pending_at_stop", pointer(ev.pending_at_stop)},
                          {"pending_at_kill", pointer(ev.pending_at_kill)},
                          {"word_before", ev.word_before},
                          {"word_after", ev.word_after},
                          {"corrupted", ev.corrupted()}});
    const nlohmann::json j = {{"unlock", name_of(unlock)},
                              {"remap", name_of(remap)},
                              {"kernel", kernel_release()},
                              {"strategy", context.strategy},
                              {"guard_loaded", context.guard_loaded},
                              {"runs", runs},
                              {"corrupted", corrupted},
                              {"expected", expected ? "corrupted" : "intact"},
                              {"as_expected", mismatched == 0},
                              {"evidence", evidence}};
    std::printf("%s\n", j.dump().c_str());
  } else {
    std::printf("rfutex repro: unlock %s (%s), remap %s, kernel %s, guard %s\n",
                std::string(name_of(unlock)).c_str(), context.strategy.c_str(),
                std::string(name_of(remap)).c_str(), kernel_release().c_str(),
                context.guard_loaded ? "loaded" : "not loaded");
    for (std::size_t i = 0; i < results.size(); ++i)
      if (verbose || i < 3) print_run(static_cast<int>(i + 1), results[i]);
    if (!verbose && results.size() > 3) std::printf("...\n");
    std::printf("%s: %ld of %ld runs corrupted the other file; expected %s\n",
                mismatched == 0 ? "as expected" : "UNEXPECTED", corrupted, runs,
                expected ? "corrupted on every run" : "intact on every run");
  }
  return mismatched == 0 ? 0 : 1;
}

int repro_victim_command(args a) {
  std::vector<char*> argv{const_cast<char*>("__repro-victim")};
  for (char* s : a) argv.push_back(s);
  return repro::victim_main(static_cast<int>(argv.size()), argv.data());
}

}  // namespace rfutex::tool
