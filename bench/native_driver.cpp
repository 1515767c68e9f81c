// SPDX-License-Identifier: MIT
// rfutex-bench-native: entry point. Usage (normally run by `rfutex bench`):
//
//   rfutex-bench-native uncontended [Google Benchmark flags]
//       one line "uncontended <variant> <ns per lock+unlock pair> <iterations>"
//       per run
//   rfutex-bench-native count <variant> <pairs>
//       only lock+unlock pairs, for `valgrind --tool=callgrind` (the command
//       runs it with two pair counts and takes instructions / pair from the
//       difference, so start-up cancels)
//   rfutex-bench-native contended threads|processes <ms> <variant>...
//       "contended <mode> <variant> <ops per second> <ops>" per variant
//   rfutex-bench-native munmap <threads> <samples>
//       "munmap <threads> <plain ns> <guarded ns> <scrub hot ns> <guarded threads>
//        <scrub cold ns>"
//   rfutex-bench-native proc-scan <threads> <samples>
//       "proc-scan <threads> <ns>": the /proc/self/task scan the guard does
//       not use (docs/bench.md), for comparison with its registry
//   rfutex-bench-native info
//       "strategy <s>", "best_strategy <s>", "glibc <version>",
//       "variants <name>..." (what this build can measure)
#include <gnu/libc-version.h>
#include <sys/single_threaded.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <string_view>

#include "driver.hpp"
#include "locks.hpp"
#include "rfutex/strategy.hpp"

namespace rfutex::bench {

bool process_is_multithreaded() noexcept { return __libc_single_threaded == 0; }

namespace {

int usage() {
  std::fprintf(stderr,
               "usage: rfutex-bench-native uncontended [benchmark flags]\n"
               "       rfutex-bench-native count <variant> <pairs>\n"
               "       rfutex-bench-native contended threads|processes <ms> <variant>...\n"
               "       rfutex-bench-native munmap <threads> <samples>\n"
               "       rfutex-bench-native info\n"
               "(normally run by `rfutex bench`)\n");
  return 2;
}

int info_main() {
  std::printf("strategy %s\n", std::string(to_string(active_unlock_strategy())).c_str());
  std::printf("best_strategy %s\n", std::string(to_string(best_unlock_strategy())).c_str());
  std::printf("glibc %s\n", gnu_get_libc_version());
  std::printf("variants");
  for (const auto& k : lock_kinds) std::printf(" %.*s", static_cast<int>(k.name.size()), k.name.data());
  std::printf("\n");
  return 0;
}

// The loop callgrind counts. Same body as the Google Benchmark loop.
template <class Lock>
[[gnu::noinline]] void pairs(Lock& lock, long n) {
  for (long i = 0; i < n; ++i) {
    (void)lock.lock();
    lock.unlock();
  }
}

int count_main(args a) {
  if (a.size() != 2) return usage();
  const auto kind = parse_lock_kind(a[0]);
  const long n = std::strtol(a[1], nullptr, 10);
  if (!kind || n < 0) return usage();
  idle_thread second;
  alignas(any_lock_align) unsigned char storage[any_lock_size];
  with_lock(*kind, false, storage, [&](auto& lock) {
    if constexpr (requires { lock.usable(); })
      if (!lock.usable()) die("this thread's robust list is not glibc x86_64's", ENOTSUP);
    if (!lock.lock()) die("lock", EINVAL);
    lock.unlock();
    pairs(lock, n);
  });
  return 0;
}

}  // namespace

}  // namespace rfutex::bench

int main(int argc, char** argv) {
  using namespace rfutex::bench;
  if (argc < 2) return usage();
  const std::string_view mode = argv[1];
  const args rest(argv + 2, static_cast<std::size_t>(argc - 2));
  try {
    if (mode == "uncontended") return uncontended_main(argc - 1, argv + 1);
    if (mode == "count") return count_main(rest);
    if (mode == "contended") return contended_main(rest);
    if (mode == "munmap") return munmap_main(rest);
    if (mode == "proc-scan") return proc_scan_main(rest);
    if (mode == "info") return info_main();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "rfutex-bench-native %s: %s\n", argv[1], e.what());
    return 1;
  }
  return usage();
}
