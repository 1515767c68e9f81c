// Subcommands of the `rfutex` tool. Each takes the arguments after its own
// name and returns the process exit status.
#pragma once

#include <span>

namespace rfutex::tool {

using args = std::span<char* const>;

int info_command(args a);
int model_command(args a);

}  // namespace rfutex::tool
