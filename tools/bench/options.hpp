// SPDX-License-Identifier: MIT
// rfutex bench's command line.
#pragma once

#include <string>

#include "../commands.hpp"

namespace rfutex::tool::bench {

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

extern const char* const help_text;

// Parses the options after `bench` (but --help, which the caller handles).
// False, after saying why on stderr, on a bad option.
bool parse_options(args a, options& o);

}  // namespace rfutex::tool::bench
