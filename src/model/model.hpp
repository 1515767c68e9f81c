// SPDX-License-Identifier: MIT
// rfutex model — an executable model of the kernel side of the robust-unlock
// fix (DESIGN.md §2), explored over every interleaving of an unlock program
// with interrupts, signals, kills, and another thread that takes the lock
// and remaps its page. docs/model.md says what is modelled and what is not.
//
//   auto r = rfutex::model::check(rfutex::model::defaults_for(protocol::vdso, arch::arm64));
//   if (!r.all_hold()) print(r.properties[0].counterexample);
#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "options.hpp"

namespace rfutex::model {

enum class property : unsigned char {
  // Exit processing never writes to a word that is not a live robust futex
  // of the dying thread (here: never into the file mapped over the lock).
  no_foreign_write,
  // A thread that dies owning the lock leaves OWNER_DIED for the next locker.
  no_lost_lock,
  // Once the thread has released the lock, the kernel never hands it off
  // (kills it, or diverts it into a signal handler) while list_op_pending
  // designates memory that is no longer the lock. docs/model.md, "Properties".
  pending_cleared,
  // No run leaves a live waiter asleep for good: in the liveness world
  // (liveness.hpp) no reachable state has nothing left to happen while a
  // living thread sleeps in FUTEX_WAIT. docs/model.md, "No lost wake-up".
  no_lost_wakeup,
};
inline constexpr std::size_t property_count = 4;
inline constexpr std::array<property, property_count> all_properties{
    property::no_foreign_write, property::no_lost_lock, property::pending_cleared,
    property::no_lost_wakeup};
// The properties each world decides (the unmap world: transitions.hpp; the
// wake-up world: liveness.hpp).
inline constexpr std::array<property, 3> safety_properties{
    property::no_foreign_write, property::no_lost_lock, property::pending_cleared};

// "no_foreign_write", "no_lost_lock", "pending_cleared", "no_lost_wakeup"
std::string_view to_string(property p) noexcept;
// "no foreign write", ...: for people.
std::string_view title(property p) noexcept;

// One transition of a counterexample, as people read it.
struct trace_step {
  std::string actor;                 // "unlocker", "kernel", "other"; liveness: "U", "T", "S1", "S2"
  std::string at;                    // "vdso+0x08 <cs_start>", or "" when not at an instruction
  std::string action;                // the instruction, or what happened
  std::vector<std::string> effects;  // what it did, in order
  std::string after;                 // the world after the step, one line
};

struct verdict {
  property what = property::no_foreign_write;
  bool holds = true;
  // Empty when `holds`; else a shortest sequence of steps from the initial
  // state to a state violating `what` (BFS order: no shorter one exists).
  std::vector<trace_step> counterexample;
};

// The exploration of the wake-up world (liveness.hpp), which decides
// no_lost_wakeup; the fields of `result` above it are the unmap world's.
struct liveness_run {
  std::string initial;          // the initial world, one line
  std::size_t states = 0;
  std::size_t transitions = 0;
  double elapsed_ms = 0;
};

struct result {
  options opts;             // as given; see effective_user_irq
  bool effective_user_irq = false;  // entry_notes_user_irq(opts)
  // The unmap world (transitions.hpp): the three safety properties.
  std::string initial;      // the initial world, one line
  std::size_t states = 0;       // distinct states reached
  std::size_t transitions = 0;  // transitions taken (including into known states)
  double elapsed_ms = 0;        // wall time of the exploration
  liveness_run liveness;        // the wake-up world: no lost wake-up
  std::array<verdict, property_count> properties;

  bool all_hold() const noexcept;
  // The first violated property in the order of `all_properties`, or nullptr.
  const verdict* first_violation() const noexcept;
};

// Explores every reachable state of the world `o` describes and judges each
// property. Deterministic: the same options give the same states, transition
// count and counterexamples (only elapsed_ms varies). Throws std::logic_error
// only on an internal inconsistency of the model (a bug).
result check(const options& o);

}  // namespace rfutex::model
