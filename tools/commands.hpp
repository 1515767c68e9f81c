// SPDX-License-Identifier: MIT
// Subcommands of the `rfutex` tool. Each takes the arguments after its own
// name and returns the process exit status.
#pragma once

#include <span>

namespace rfutex::tool {

using args = std::span<char* const>;

int info_command(args a);
int model_command(args a);
int bench_command(args a);
int repro_command(args a);
int torture_command(args a);
int repro_victim_command(args a);  // internal: the victim process of repro

}  // namespace rfutex::tool
