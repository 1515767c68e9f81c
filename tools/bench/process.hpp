// SPDX-License-Identifier: MIT
// Running the benchmark drivers and finding them and the helper programs.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace rfutex::tool::bench {

struct run_result {
  int status = -1;  // exit status, or 128 + signal
  std::string out, err;
};

std::string join(const std::vector<std::string>& argv);

// Runs argv (PATH searched) with the environment plus `env_extra`
// ("NAME=value", overriding); collects its output.
run_result run(const std::vector<std::string>& argv, const std::vector<std::string>& env_extra = {});

// The whitespace-separated words of each non-empty line.
std::vector<std::vector<std::string>> lines_of(const std::string& text);

bool is_executable(const std::string& path);

// The 1-minute load average, -1 if unknown.
double load_average();

std::optional<std::string> find_in_path(const std::string& program);

// Where the drivers are: $RFUTEX_BENCH_DIR, else beside this program in the
// build tree (tools/../bench) or an installed prefix (bin/../libexec/rfutex).
std::optional<std::filesystem::path> find_driver_dir();

}  // namespace rfutex::tool::bench
