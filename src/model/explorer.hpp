// SPDX-License-Identifier: MIT
// Exhaustive breadth-first exploration of a `transition_system`, with every state
// stored once (hash set). Breadth-first order makes the first violating
// state found for each property one of the closest to the initial state, so
// the path to it is a shortest counterexample.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <vector>

#include "model.hpp"
#include "transitions.hpp"

namespace rfutex::model {

struct exploration {
  std::size_t states = 0;
  std::size_t transitions = 0;
  // Per property (index = property): the moves from the initial state to a
  // nearest violating state; empty optional when no reachable state violates.
  std::array<std::optional<std::vector<move>>, property_count> shortest;
};

// Explores every state reachable from sys.initial(). Deterministic.
exploration explore(const transition_system& sys);

// Replays `path` from sys.initial(), describing each step.
// Contract: every move of `path` is enabled where it is applied (as for the
// paths explore() returns); throws std::logic_error otherwise.
std::vector<trace_step> narrate(const transition_system& sys, const std::vector<move>& path);

// The state `path` leads to (no descriptions). Same contract as narrate().
state replay(const transition_system& sys, const std::vector<move>& path);

}  // namespace rfutex::model
