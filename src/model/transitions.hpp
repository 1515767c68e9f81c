// SPDX-License-Identifier: MIT
// The transition relation: which steps each actor can take from a state,
// and what each step does. The explorer knows nothing else about the world.
//
// Granularity. The unlocker executes one instruction per step. A kernel
// visit (interrupt/exception entry, the exit-to-user-mode loop with the
// fix-up, signal delivery, and for a fatal signal exit processing) is one
// step: nothing the other thread does commutes differently with its parts.
// The entry writes nothing; the fix-up writes only the pending slot, which
// the other thread touches only through the guard's compare-and-swap to the
// same value 0; and a death ends the whole process, so the other thread does
// nothing after it (a simplification: docs/model.md, "Exploration", names
// the window it hides). A handler, by contrast, runs in user mode for as
// long as it likes, so "in a handler" is a state the other thread acts in.
#pragma once

#include <cstdint>
#include <vector>

#include "kernel.hpp"
#include "model.hpp"
#include "options.hpp"
#include "programs.hpp"
#include "world.hpp"

namespace rfutex::model {

enum class move_kind : std::uint8_t {
  exec,           // unlocker runs the instruction at pc. choice: stlxr
                  //   0 = as the monitor says, 1 = spurious failure;
                  //   syscalls: the signal_kind pending at syscall exit
  interrupt,      // interrupt/exception from user mode. choice: signal_kind
  handler_crash,  // the handler faults (or is killed): death
  sigreturn,      // the handler returns via rt_sigreturn. choice: signal_kind
  other_wait,     // other thread: lock held -> set FUTEX_WAITERS, sleep
  other_acquire,  // other thread: lock word 0 -> take it
  other_guard,    // other thread: the unmap guard over the lock's range
  other_remap,    // other thread: map the unrelated file over the page
};

struct move {
  move_kind kind = move_kind::exec;
  std::uint8_t choice = 0;
  bool operator==(const move&) const = default;
};

class transition_system {
 public:
  using state_type = state;
  using move_type = move;
  using state_hash = model::state_hash;

  explicit transition_system(const options& o);
  transition_system(const transition_system&) = delete;  // kernel_ points into prog_
  transition_system& operator=(const transition_system&) = delete;

  const options& opts() const noexcept { return opts_; }
  const program& prog() const noexcept { return prog_; }

  state initial() const noexcept { return state{}; }

  // Appends every move enabled in `s`, in a fixed order (the order decides
  // which of several shortest counterexamples the explorer reports).
  void moves(const state& s, std::vector<move>& out) const;

  // The state after `m`. Contract: m was enumerated by moves(s). When
  // `step` is not null it receives the description of the transition.
  state apply(const state& s, move m, trace_step* step) const;

  // Whether `s` violates `p`. The first two are decided by the death
  // transition; pending_cleared is a predicate of the state itself;
  // no_lost_wakeup is not a property of this world (false).
  static bool violates(const state& s, property p) noexcept;

  // The world in one line, for traces.
  static std::string summary(const state& s);

 private:
  void exec(state& s, std::uint8_t choice, trace_step* step) const;

  options opts_;
  bool user_irq_;
  bool guard_;
  program prog_;
  kernel kernel_;
};

}  // namespace rfutex::model
