// SPDX-License-Identifier: MIT
#include "sleepers.hpp"

#include <time.h>

#include <algorithm>
#include <sstream>
#include <stdexcept>

#include "process.hpp"

namespace rfutex::test {

namespace {

std::uint32_t load(const std::uint32_t& v) {
  // acquire: pairs with the sleeper's release stores.
  return std::atomic_ref<std::uint32_t>(const_cast<std::uint32_t&>(v)).load(std::memory_order_acquire);
}

// Everything that changes when anyone makes progress.
struct progress {
  std::uint32_t word;
  std::uint32_t outcomes;
  std::uint32_t done;
  bool operator==(const progress&) const = default;
};

progress read_progress(const std::uint32_t* word, const std::vector<sleeper_record*>& sleepers) {
  progress p{load(*word), 0, 0};
  for (const sleeper_record* r : sleepers) {
    p.outcomes += load(r->outcome) != 0 ? 1u : 0u;
    p.done += load(r->done);
  }
  return p;
}

std::string describe(const progress& p, const std::vector<sleeper_record*>& sleepers) {
  std::ostringstream out;
  out << "word 0x" << std::hex << p.word << std::dec << "; sleepers";
  for (const sleeper_record* r : sleepers)
    out << " tid " << load(r->tid) << (load(r->done) != 0 ? " done" : " asleep in futex()");
  return out.str();
}

}  // namespace

void await_asleep(const sleeper_record& r, const void* word, std::chrono::milliseconds bound) {
  const auto give_up = std::chrono::steady_clock::now() + bound;
  while (load(r.tid) == 0) {
    if (std::chrono::steady_clock::now() > give_up)
      throw std::runtime_error("a sleeper did not start within the hang bound");
    sched_yield();
  }
  await_blocked_on(static_cast<pid_t>(load(r.pid)), static_cast<pid_t>(load(r.tid)), word, bound);
}

std::string await_every_sleeper(const std::uint32_t* word, const std::vector<sleeper_record*>& sleepers,
                                std::chrono::milliseconds bound) {
  // A wake-up can be in flight for a moment — queued to the sleeper's CPU —
  // while /proc still shows the sleeper asleep and nothing else changes (seen
  // under QEMU, where a vCPU may wait long for its turn). The stranded state
  // must therefore hold, unchanged, for `settle` before it counts: this only
  // confirms a failure already seen, it never lets a test pass.
  constexpr auto settle = std::chrono::milliseconds(1000);
  const auto give_up = std::chrono::steady_clock::now() + bound;
  bool stranded_seen = false;  // in the previous round
  progress stranded_state{0, 0, 0};
  std::chrono::steady_clock::time_point stranded_since;
  for (;;) {
    const progress before = read_progress(word, sleepers);
    if (before.done == sleepers.size()) return "";
    // Every sleeper not done asleep on the word? A woken thread that runs
    // reads as running, or changes `progress`.
    bool all_asleep = true;
    for (const sleeper_record* r : sleepers)
      if (load(r->done) == 0 && !blocked_in_futex_on(static_cast<pid_t>(load(r->pid)),
                                                     static_cast<pid_t>(load(r->tid)), word))
        all_asleep = false;
    const progress after = read_progress(word, sleepers);
    bool stranded = false;
    if (all_asleep && after == before) {
      const std::uint32_t owner = after.word & sys::futex_tid_mask;
      stranded = owner == 0 || std::none_of(sleepers.begin(), sleepers.end(), [&](const sleeper_record* r) {
                   return load(r->done) == 0 && load(r->tid) == owner;
                 });
    }
    const auto now = std::chrono::steady_clock::now();
    if (stranded && (!stranded_seen || !(stranded_state == after))) {
      stranded_state = after;
      stranded_since = now;
    } else if (stranded && now - stranded_since >= settle) {
      return "stranded: " + describe(after, sleepers);
    }
    stranded_seen = stranded;
    if (now > give_up) return "hang bound passed: " + describe(after, sleepers);
    const timespec pause{0, 50'000};  // polling interval only
    ::nanosleep(&pause, nullptr);
  }
}

bool took_distinct_turns(const std::vector<sleeper_record*>& sleepers) {
  std::vector<std::uint32_t> turns;
  for (const sleeper_record* r : sleepers) turns.push_back(load(r->turn));
  std::sort(turns.begin(), turns.end());
  for (std::size_t i = 0; i < turns.size(); ++i)
    if (turns[i] != i + 1) return false;
  return true;
}

}  // namespace rfutex::test
