// SPDX-License-Identifier: MIT
// The goals a run is checked against (docs/bench.md), with verdicts.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "results.hpp"

namespace rfutex::tool::bench {

struct target {
  std::string what, goal;
  std::optional<double> value;  // measured
  double limit;
  bool at_most;  // value <= limit passes (else value >= limit)
  std::string unit;
  std::optional<double> fastest = std::nullopt;  // the ratio of the fastest runs (uncontended)
};

std::vector<target> targets_of(const results& r);
bool met(const target& t);
// "MISSED by 12%" / "met (5% margin)"
std::string verdict(const target& t);

}  // namespace rfutex::tool::bench
