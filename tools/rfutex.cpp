// SPDX-License-Identifier: MIT
// rfutex — command-line front end: dispatches to one subcommand.
#include <cstdio>
#include <cstring>
#include <exception>
#include <string_view>

#include "commands.hpp"

namespace {

struct command {
  std::string_view name;
  int (*run)(rfutex::tool::args);
  std::string_view summary;
};

constexpr command commands[] = {
    {"info", rfutex::tool::info_command,
     "kernel capabilities, vDSO functions, robust-list head, chosen unlock strategy"},
    {"repro", rfutex::tool::repro_command,
     "reproduce the robust-unlock race on this kernel (and show it closed)"},
    {"bench", rfutex::tool::bench_command,
     "rfutex's robust mutex against glibc's and musl's: table, JSON, chart"},
    {"model", rfutex::tool::model_command,
     "explore the kernel side of the robust-unlock fix over every interleaving"},
    {"torture", rfutex::tool::torture_command, "kill storm over every lock type, with unmaps; PASS or FAIL"},
    {"__repro-victim", rfutex::tool::repro_victim_command, "internal"},
};

void usage(std::FILE* out) {
  std::fprintf(out, "usage: rfutex <command> [options]\n\ncommands:\n");
  for (const auto& c : commands)
    if (c.name.substr(0, 2) != "__")
      std::fprintf(out, "  %-8.*s %.*s\n", static_cast<int>(c.name.size()), c.name.data(),
                 static_cast<int>(c.summary.size()), c.summary.data());
  std::fprintf(out,
               "\n`rfutex <command> --help` describes one command; `rfutex --version` prints the\n"
               "version. Manual pages: rfutex(1) for this tool, rfutex(7) for the library and\n"
               "rfutex_mutex(3), rfutex_pi_mutex(3), rfutex_cond(3), rfutex_unmap(3) for its C\n"
               "interface; README.md and docs/ in the source tree.\n");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    usage(stderr);
    return 2;
  }
  const std::string_view name = argv[1];
  if (name == "-h" || name == "--help" || name == "help") {
    usage(stdout);
    return 0;
  }
  if (name == "-V" || name == "--version" || name == "version") {
    std::printf("rfutex %s\n", RFUTEX_VERSION);
    return 0;
  }
  for (const auto& c : commands) {
    if (c.name == name) {
      try {
        return c.run(rfutex::tool::args(argv + 2, static_cast<std::size_t>(argc - 2)));
      } catch (const std::exception& e) {
        std::fprintf(stderr, "rfutex %s: %s\n", argv[1], e.what());
        return 1;
      }
    }
  }
  std::fprintf(stderr, "rfutex: unknown command '%s'\n\n", argv[1]);
  usage(stderr);
  return 2;
}
