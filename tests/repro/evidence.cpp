// SPDX-License-Identifier: MIT
// rfutex_repro_evidence — runs `rfutex repro` RUNS times (default 100) for
// every unlock × remap mode that can run on this kernel, and prints one
// Markdown table: the evidence behind README's claims. Exit status 0 when
// every mode came out as expected. Used by scripts/repro-evidence on the host
// and inside the 7.2 VM.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "process.hpp"
#include "rfutex/capabilities.hpp"

namespace {

struct mode {
  const char* unlock;
  const char* remap;
  bool preload;
};

std::string field(const std::string& json, const std::string& key) {
  const auto at = json.find("\"" + key + "\":");
  if (at == std::string::npos) return "?";
  auto begin = at + key.size() + 3;
  if (json[begin] == '"') ++begin;
  const auto end = json.find_first_of(",\"}", begin);
  return json.substr(begin, end - begin);
}

}  // namespace

int main(int argc, char** argv) {
  const int runs = argc > 1 ? std::atoi(argv[1]) : 100;
  const std::string tool = rfutex::test::build_tree_path("tools/rfutex");
  const std::string guard = rfutex::test::build_tree_path("src/librfutex-guard.so");
  const bool can_preload = ::access(guard.c_str(), R_OK) == 0;
  const auto& caps = rfutex::capabilities();

  std::vector<mode> modes = {
      {"glibc", "libc", false},          {"glibc", "rfutex", false},
      {"glibc", "raw", false},           {"rfutex", "rfutex", false},
      {"rfutex", "libc", false},         {"rfutex", "raw", false},
      {"rfutex-guarded", "rfutex", false}, {"rfutex-guarded", "raw", false},
  };
  if (caps.best_strategy == rfutex::unlock_strategy::kernel) {
    modes.push_back({"rfutex-kernel", "rfutex", false});
    modes.push_back({"rfutex-kernel", "libc", false});
    modes.push_back({"rfutex-kernel", "raw", false});
  }
  if (can_preload) {
    modes.push_back({"glibc", "libc", true});
    modes.push_back({"rfutex-guarded", "libc", true});
    modes.push_back({"glibc", "raw", true});
  }

  std::printf("kernel %s, %s process, %d runs per mode\n\n", caps.kernel_release.c_str(),
              sizeof(void*) == 8 ? "64-bit" : "32-bit", runs);
  std::printf("| unlock | remap | guard preloaded | strategy | runs | corrupted | expected | as expected |\n");
  std::printf("|---|---|---|---|---|---|---|---|\n");
  int mismatches = 0;
  for (const auto& m : modes) {
    const auto r = rfutex::test::run_program(
        tool, {"repro", "--unlock", m.unlock, "--remap", m.remap, "--runs", std::to_string(runs), "--json"},
        {{"LD_PRELOAD", m.preload ? guard.c_str() : nullptr}, {"RFUTEX_UNLOCK", nullptr}});
    const std::string ok = field(r.output, "as_expected");
    if (r.exit_code != 0 || ok != "true") ++mismatches;
    std::printf("| %s | %s | %s | %s | %s | %s | %s | %s |\n", m.unlock, m.remap,
                m.preload ? "yes" : "no", field(r.output, "strategy").c_str(),
                field(r.output, "runs").c_str(), field(r.output, "corrupted").c_str(),
                field(r.output, "expected").c_str(),
                r.exit_code == 0 ? ok.c_str() : ("exit " + std::to_string(r.exit_code)).c_str());
    std::fflush(stdout);
  }
  std::printf("\n%s\n", mismatches == 0 ? "EVIDENCE ok" : "EVIDENCE MISMATCH");
  return mismatches == 0 ? 0 : 1;
}
