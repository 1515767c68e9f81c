// SPDX-License-Identifier: MIT
// rfutex info: what the kernel offers robust locks and what rfutex chose.
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <system_error>

#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "rfutex/capabilities.hpp"
#include "rfutex/strategy.hpp"

namespace rfutex::tool {

namespace {

#if defined(__aarch64__)
constexpr const char* process_arch = "arm64";
#else
constexpr const char* process_arch = sizeof(void*) == 8 ? "x86_64" : "i386";
#endif

struct strategy_answer {
  std::string name;  // the active strategy, or "error"
  std::string error;
};

strategy_answer ask_strategy() {
  try {
    return {std::string(to_string(active_unlock_strategy())), {}};
  } catch (const std::system_error& e) {
    return {"error", e.what()};
  }
}

std::string describe(const void* p) {
  if (p == nullptr) return "absent";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%p", p);
  return buf;
}

// A pointer as "0x..." (JSON has no pointers), null for none.
nlohmann::json pointer(const void* p) {
  if (p == nullptr) return nullptr;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%p", p);
  return buf;
}

void print_json(const kernel_capabilities& caps, const strategy_answer& strategy,
                const robust_list_report* list) {
  nlohmann::json j = {
      {"kernel_release", caps.kernel_release},
      {"kernel_machine", caps.kernel_machine},
      {"process_arch", process_arch},
      {"vdso",
       {{"base", pointer(caps.vdso_base)},
        {"futex_robust_list64_try_unlock", pointer(caps.vdso_try_unlock64)},
        {"futex_robust_list32_try_unlock", pointer(caps.vdso_try_unlock32)}}},
      {"futex_robust_unlock",
       {{"works", caps.robust_unlock_flag},
        {"errno", caps.robust_unlock_errno},
        {"error", caps.robust_unlock_flag ? "" : std::strerror(caps.robust_unlock_errno)}}},
      {"robust_list", nullptr},
      {"best_strategy", to_string(caps.best_strategy)},
      {"strategy", strategy.name},
  };
  if (list != nullptr)
    j["robust_list"] = {{"tid", list->tid},
                        {"head", pointer(list->head)},
                        {"registrar", to_string(list->registrar)},
                        {"futex_offset", list->futex_offset},
                        {"supported", list->supported}};
  if (!strategy.error.empty()) j["error"] = strategy.error;
  std::printf("%s\n", j.dump().c_str());
}

void print_text(const kernel_capabilities& caps, const strategy_answer& strategy,
                const robust_list_report* list) {
  std::printf("kernel              %s (%s), this process %s\n", caps.kernel_release.c_str(),
              caps.kernel_machine.c_str(), process_arch);
  std::printf("vDSO                %s\n", describe(caps.vdso_base).c_str());
  std::printf("  list64 try-unlock %s\n", describe(caps.vdso_try_unlock64).c_str());
  std::printf("  list32 try-unlock %s\n", describe(caps.vdso_try_unlock32).c_str());
  std::printf("FUTEX_ROBUST_UNLOCK %s\n",
              caps.robust_unlock_flag
                  ? "works"
                  : ("unavailable (" + std::string(std::strerror(caps.robust_unlock_errno)) + ")")
                        .c_str());
  if (list != nullptr) {
    std::printf("robust list         tid %d, head %s registered by %s, futex_offset %ld%s\n",
                static_cast<int>(list->tid), describe(list->head).c_str(),
                std::string(to_string(list->registrar)).c_str(), list->futex_offset,
                list->supported ? "" : " (unsupported)");
  }
  std::printf("unlock strategy     %s (best this kernel offers: %s)\n", strategy.name.c_str(),
              std::string(to_string(caps.best_strategy)).c_str());
  if (!strategy.error.empty()) std::printf("error               %s\n", strategy.error.c_str());
}

}  // namespace

int info_command(args a) {
  bool json = false;
  for (const char* arg : a) {
    const std::string_view s = arg;
    if (s == "--json") {
      json = true;
    } else if (s == "-h" || s == "--help") {
      std::printf(
          "usage: rfutex info [--json]\n\n"
          "Reports the kernel release, whether the Linux 7.2 vDSO robust try-unlock\n"
          "functions exist (and where), whether futex(FUTEX_WAKE|FUTEX_ROBUST_UNLOCK)\n"
          "works, the calling thread's robust-list head (who registered it, its\n"
          "futex_offset) and the unlock strategy rfutex uses (RFUTEX_UNLOCK overrides).\n"
          "Exit status 1 when RFUTEX_UNLOCK asks for something the kernel lacks.\n");
      return 0;
    } else {
      std::fprintf(stderr, "rfutex info: unknown option '%s' (try --help)\n", arg);
      return 2;
    }
  }
  const kernel_capabilities& caps = capabilities();
  const strategy_answer strategy = ask_strategy();
  robust_list_report list;
  const bool have_list = strategy.error.empty();
  if (have_list) list = current_robust_list();
  if (json)
    print_json(caps, strategy, have_list ? &list : nullptr);
  else
    print_text(caps, strategy, have_list ? &list : nullptr);
  return strategy.error.empty() ? 0 : 1;
}

}  // namespace rfutex::tool
