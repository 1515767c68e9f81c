// SPDX-License-Identifier: MIT
#include "stats.hpp"

#include <algorithm>

namespace rfutex::tool::bench {

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

std::optional<double> min_ratio(const std::optional<stats>& a, const std::optional<stats>& b) {
  if (!a || !b || b->min <= 0) return std::nullopt;
  return a->min / b->min;
}

std::optional<double> median_of(const std::optional<stats>& s) {
  if (!s) return std::nullopt;
  return s->median;
}

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

}  // namespace rfutex::tool::bench
