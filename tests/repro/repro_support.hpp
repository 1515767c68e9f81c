// SPDX-License-Identifier: MIT
// Running `rfutex repro` from tests and reading its --json answer.
#pragma once

#include <gtest/gtest.h>

#include <regex>
#include <string>

#include "sanitizer_build.hpp"
#include "process.hpp"
#include "rfutex/capabilities.hpp"

namespace rfutex::test {

struct repro_outcome {
  int exit_code = -1;
  long runs = -1;
  long corrupted = -1;
  long pending_clear_at_stop = -1;  // runs where list_op_pending was 0 when the word read 0
  long stopped_in_vdso = -1;        // runs where that instant was inside the vDSO
  long pending_clear_at_kill = -1;  // runs where it was 0 when the victim was killed
  std::string output;
};

inline long json_number(const std::string& s, const std::string& key) {
  std::smatch m;
  if (std::regex_search(s, m, std::regex("\"" + key + "\":([0-9]+)"))) return std::stol(m[1]);
  return -1;
}

inline long count(const std::string& s, const std::string& needle) {
  long n = 0;
  for (auto at = s.find(needle); at != std::string::npos; at = s.find(needle, at + 1)) ++n;
  return n;
}

// Skips a test that runs `rfutex repro` in a ThreadSanitizer build: there the
// traced thread can be stopped inside TSan's runtime while it holds a lock
// that the remapping thread's instrumented atomics then wait for.
#if defined(RFUTEX_TEST_TSAN)
#define RFUTEX_SKIP_REPRO_UNDER_TSAN() \
  GTEST_SKIP() << "ThreadSanitizer's runtime locks cannot be single-stepped through"
#else
#define RFUTEX_SKIP_REPRO_UNDER_TSAN() (void)0
#endif

inline repro_outcome run_repro(const std::string& unlock, const std::string& remap, int runs,
                               bool preload_guard = false) {
  const std::string guard = build_tree_path("src/librfutex-guard.so");
  const auto r = run_program(build_tree_path("tools/rfutex"),
                             {"repro", "--unlock", unlock, "--remap", remap, "--runs",
                              std::to_string(runs), "--json"},
                             {{"LD_PRELOAD", preload_guard ? guard.c_str() : nullptr},
                              {"RFUTEX_UNLOCK", nullptr}});
  repro_outcome o;
  o.exit_code = r.exit_code;
  o.output = r.output;
  o.runs = json_number(r.output, "runs");
  o.corrupted = json_number(r.output, "corrupted");
  o.pending_clear_at_stop = count(r.output, "\"pending_at_stop\":null");
  o.stopped_in_vdso = count(r.output, "\"ip_in_vdso\":true");
  o.pending_clear_at_kill = count(r.output, "\"pending_at_kill\":null");
  return o;
}

inline bool kernel_has_the_fix() {
  return rfutex::capabilities().best_strategy == rfutex::unlock_strategy::kernel;
}

}  // namespace rfutex::test
