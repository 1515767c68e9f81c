// SPDX-License-Identifier: MIT
// The wake-up world: who wakes a sleeper when threads die around a contended
// release. It decides the property no_lost_wakeup (docs/model.md, "No lost
// wake-up"); the unmap world (transitions.hpp) decides the three safety
// properties. The two worlds share nothing but the kernel's exit rule
// (kernel.hpp) and the search (search.hpp).
//
// Threads, each its own process (a SIGKILL ends only that thread):
//   unlocker  holds the lock (word = its TID | FUTEX_WAITERS, node linked)
//             and runs the protocol's release; may be killed at every step;
//   taker     may take the lock whenever its owner part is 0, as rfutex's
//             acquire does it (the fast path CAS 0 -> tid when the word is 0,
//             so without FUTEX_WAITERS), at any point, then releases it; it
//             is never killed;
//   sleepers  1 or 2, asleep in FUTEX_WAIT (pending = &node, expected value
//             the word); once woken they run rfutex's plain acquire loop and
//             then the release; may be killed at every step after the wake.
// Granularity: one step per memory operation on the word, per pending-slot
// or list store, per futex syscall. A syscall's kernel part is one step: a
// SIGKILL acts only on the way back to user mode, so a death falls between
// steps, never inside one. The kernel's FUTEX_WAKE may wake any sleeper (its
// choice is not modelled: every choice is explored).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model.hpp"
#include "options.hpp"

namespace rfutex::model {

// One step of a thread's program (acquire loop, then release).
enum class lop : std::uint8_t {
  asleep,            // queued in FUTEX_WAIT; only a wake moves it (to `try`)
  acquire_try,       // v = word; owner 0: CAS v -> tid | (v & WAITERS) | WAITERS
                     //   (it slept), acquired; else CAS v -> v | WAITERS, then wait
  futex_wait,        // FUTEX_WAIT(v): word == v ? asleep : back to try (EAGAIN)
  link,              // node onto the thread's robust list
  clear_pending,     // list_op_pending = 0
  take_fast,         // taker: owner part 0 -> tid | (word & WAITERS)
  set_pending,       // list_op_pending = &node
  unlink,            // node off the robust list
  exchange,          // old = xchg(word, 0)
  jump_if_no_waiters,  // old & WAITERS ? next : target
  wake_one,          // futex(FUTEX_WAKE, 1)
  cas_release,       // CAS word tid -> 0 ? next : target (FUTEX_WAITERS set)
  wake_op_all,       // futex(FUTEX_WAKE_OP, INT_MAX, SET 0): store 0, wake all
  robust_unlock_one, // futex(FUTEX_WAKE | FUTEX_ROBUST_UNLOCK, 1): store 0,
                     //   clear pending, wake one
  vdso_try_unlock,   // 7.2 vDSO: cmpxchg tid -> 0 ? (pending cleared) next : target
  jump,              // to target
  done,              // the lock was taken and given back
};

struct lstep {
  lop code = lop::done;
  std::string_view text;   // for traces
  std::uint8_t target = 0;  // for branches
};

struct liveness_program {
  std::vector<lstep> steps;
  std::uint8_t try_pc = 0;      // where a woken sleeper resumes
  std::uint8_t idle_pc = 0;     // the taker's start
  std::uint8_t release_pc = 0;  // the unlocker's start
};

// The acquire loop (src/protocol/lock_protocol.cpp, acquire) followed by
// `p`'s release.
liveness_program make_liveness_program(protocol p);

struct lthread {
  std::uint8_t pc = 0;
  std::uint32_t seen = 0;  // acquire: the value FUTEX_WAIT expects; release: old word
  bool pending = false;    // list_op_pending == &node
  bool linked = false;     // node on the robust list
  bool dead = false;
  bool operator==(const lthread&) const = default;
};

inline constexpr std::size_t max_threads = 4;  // unlocker, taker, 2 sleepers
inline constexpr std::size_t unlocker_index = 0, taker_index = 1, first_sleeper_index = 2;
inline constexpr std::array<std::uint32_t, max_threads> liveness_tids{1000, 2000, 3000, 4000};

struct lstate {
  std::uint32_t word = 0;
  std::array<lthread, max_threads> t{};
  bool operator==(const lstate&) const = default;
};

struct lstate_hash {
  std::size_t operator()(const lstate& s) const noexcept;
};

enum class lmove_kind : std::uint8_t {
  step,  // thread runs its step at pc
  kill,  // SIGKILL of the thread: exit_robust_list() / handle_futex_death()
};
inline constexpr std::uint8_t nobody = 0xff;

struct lmove {
  std::uint8_t thread = 0;
  lmove_kind kind = lmove_kind::step;
  std::uint8_t wakes = nobody;  // the sleeper a wake-one wakes, if one sleeps
  bool operator==(const lmove&) const = default;
};

class liveness_system {
 public:
  using state_type = lstate;
  using move_type = lmove;
  using state_hash = lstate_hash;

  explicit liveness_system(const options& o);

  const liveness_program& prog() const noexcept { return prog_; }
  std::size_t threads() const noexcept { return threads_; }

  lstate initial() const noexcept;
  void moves(const lstate& s, std::vector<lmove>& out) const;
  lstate apply(const lstate& s, lmove m, trace_step* step) const;

  // A lost wake-up: nothing is enabled any more (every thread is done, dead
  // or asleep) and a living thread is asleep. See docs/model.md for why this
  // is "a sleeper no live thread or kernel action will ever wake".
  static bool lost_wakeup(const lstate& s, const std::vector<lmove>& enabled) noexcept;

  std::string summary(const lstate& s) const;
  std::string_view name(std::size_t thread) const noexcept;

 private:
  // What handle_futex_death() does for thread `i`'s robust list and pending
  // op. Returns whether it wakes one waiter.
  bool exit_wakes(const lstate& s, std::size_t i) const noexcept;
  // Marks thread `i` dead after handle_futex_death()'s write, if any; the
  // caller applies the wake (exit_wakes() judged on the state before).
  void die(lstate& s, std::size_t i, std::vector<std::string>* log) const;
  void wake(lstate& s, std::uint8_t who, std::vector<std::string>* log) const;
  void wake_choices(const lstate& s, std::uint8_t thread, lmove_kind k, std::vector<lmove>& out) const;
  bool step_wakes_one(const lstate& s, std::size_t i) const noexcept;

  options opts_;
  liveness_program prog_;
  std::size_t threads_;
};

struct liveness_exploration {
  std::size_t states = 0;
  std::size_t transitions = 0;
  std::optional<std::vector<lmove>> shortest;  // to a nearest lost wake-up
};

liveness_exploration explore(const liveness_system& sys);
std::vector<trace_step> narrate(const liveness_system& sys, const std::vector<lmove>& path);
lstate replay(const liveness_system& sys, const std::vector<lmove>& path);

}  // namespace rfutex::model
