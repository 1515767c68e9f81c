// SPDX-License-Identifier: MIT
#include "results.hpp"

#include <cstdio>
#include <cstdlib>
#include <utility>

namespace rfutex::tool::bench {

void note(results& r, const std::string& text) {
  std::fprintf(stderr, "rfutex bench: note: %s\n", text.c_str());
  r.notes.push_back(text);
}

void failure(results& r, const std::vector<std::string>& argv, const run_result& rr) {
  r.failed = true;
  std::fprintf(stderr, "rfutex bench: `%s` failed (status %d):\n%s%s", join(argv).c_str(),
               rr.status, rr.err.c_str(), rr.err.empty() || rr.err.back() == '\n' ? "" : "\n");
  // Appended piecewise: g++ 12 -O3 warns falsely (-Wrestrict) about "`" + string.
  std::string text = "`";
  text.append(join(argv)).append("` failed (status ").append(std::to_string(rr.status)).append(")");
  r.notes.push_back(std::move(text));
}

std::string contended_baseline(const std::string& name, const contended_mode& mode) {
  if (name.ends_with("_read")) return "pthread_rwlock_read";
  return mode.processes ? "glibc_robust_pshared" : "glibc_robust";
}

double number(const std::string& s) { return std::strtod(s.c_str(), nullptr); }

}  // namespace rfutex::tool::bench
