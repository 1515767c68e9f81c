// SPDX-License-Identifier: MIT
// The three forms of a run's report: JSON, Markdown, a PNG chart.
#pragma once

#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "results.hpp"

namespace rfutex::tool::bench {

void write_json(std::FILE* out, const results& r, const drivers& d);
// `chart`: the chart's path to link, empty for none.
void write_markdown(std::FILE* out, const results& r, const drivers& d, const std::string& chart);
// Writes bench.png (and its data files) into `dir` with gnuplot; false,
// with a note, when it cannot.
bool write_chart(results& r, const std::filesystem::path& dir, const drivers& d);

// Shared by the three.
const std::vector<double>& samples_or_empty(const std::map<std::string, std::vector<double>>& m,
                                            const std::string& name);
std::optional<double> instructions_of(const results& r, const std::string& name);
// Why variant `v` has no result.
std::string reason_missing(const results& r, const variant& v, const drivers& d);
// v with `decimals` decimals; "—" for none.
std::string fmt(double v, int decimals);
std::string fmt_opt(const std::optional<double>& v, int decimals, const char* unit = "");

}  // namespace rfutex::tool::bench
