// SPDX-License-Identifier: MIT
// Statistics over benchmark samples.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace rfutex::tool::bench {

struct stats {
  double median = 0, min = 0, max = 0;
  std::size_t n = 0;
};

// Median, min, max; empty for no samples.
std::optional<stats> summarize(std::vector<double> v);
// a / b of the medians.
std::optional<double> ratio(const std::optional<stats>& a, const std::optional<stats>& b);
// The ratio of the fastest runs: on a busy machine noise only ever adds time.
std::optional<double> min_ratio(const std::optional<stats>& a, const std::optional<stats>& b);
std::optional<double> median_of(const std::optional<stats>& s);
// name / base, taken within each round where both were measured.
std::optional<stats> paired_ratio(const std::map<std::string, std::map<int, double>>& by_round,
                                  const std::string& name, const std::string& base);

}  // namespace rfutex::tool::bench
