// SPDX-License-Identifier: MIT
// The measurements: each runs the drivers for every round and adds what
// they print to `results`.
#pragma once

#include "results.hpp"

namespace rfutex::tool::bench {

// Kernel, CPUs, libc versions, strategy, what the native driver can measure.
// False when the native driver cannot run, or rfutex cannot lock at all here
// (RFUTEX_UNLOCK names a strategy the kernel lacks): nothing to measure.
bool describe_system(results& r, const drivers& d);
void measure_uncontended(results& r, const drivers& d);
void measure_instructions(results& r, const drivers& d);  // callgrind
void measure_contended(results& r, const drivers& d);
void measure_munmap(results& r, const drivers& d);

}  // namespace rfutex::tool::bench
