// SPDX-License-Identifier: MIT
// Stranded sleepers: a thread asleep in futex() on a lock word that nobody
// is obliged to wake it from.
//
// A sleeper goes to sleep only after setting FUTEX_WAITERS, and whoever
// clears that bit (a release) must wake it. So a thread asleep on a word
// that lacks FUTEX_WAITERS is legitimate only while somebody is on the way
// to wake it: a releaser still inside unlock(), or another acquirer that was
// woken and has not re-taken the lock yet (it takes it with FUTEX_WAITERS,
// so its own release wakes again). The watch reports a sleeper when, on
// several samples spanning `confirm_ms`, it stayed asleep without a single
// wake-up (state S, voluntary context switches unchanged, in /proc), the
// word lacked FUTEX_WAITERS, and every other thread of that lock was asleep
// too or elsewhere — the state a lost wake-up leaves. New arrivals could
// rescue it later; that must not hide it.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "workload.hpp"

namespace rfutex::tool::torture {

struct watched_thread {
  thread_slot* slot;
  pid_t pid;       // its worker process; 0 while the worker is dead
  std::string label;  // "w2.t1"
};

// Whether thread `tid` of `pid` is asleep in futex() on `word` (from /proc).
bool asleep_on(pid_t pid, std::int32_t tid, const std::uint32_t* word);

class sleeper_watch {
 public:
  sleeper_watch(std::vector<lock_info> locks, double confirm_ms)
      : locks_(std::move(locks)), confirm_ms_(confirm_ms) {}

  // One sample at time `now_ms`. Returns a description of a confirmed
  // stranded sleeper, or "".
  std::string sample(double now_ms, const std::vector<watched_thread>& threads);

  bool usable() const { return usable_; }

 private:
  struct suspect {
    double since_ms;
    long switches;
    int samples;
  };
  std::vector<lock_info> locks_;
  double confirm_ms_;
  bool usable_ = true;
  std::map<std::int32_t, suspect> suspects_;  // by TID
};

}  // namespace rfutex::tool::torture
