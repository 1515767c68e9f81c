// SPDX-License-Identifier: MIT
// The breadth-first search both worlds are explored with (the unmap world of
// transitions.hpp, the wake-up world of liveness.hpp), written once.
//
// A `System` provides: state_type, move_type, state_hash; initial();
// moves(s, out) appending the enabled moves in a fixed order; apply(s, m,
// step) with step == nullptr. `violates(s, enabled, p)` judges property index
// p of a state given the moves enabled in it (a lost wake-up is a property of
// a state with nothing left to do). Every state is stored once; states are
// judged in discovery order, so the first violating state found for each
// property is at minimal depth and the path to it is a shortest
// counterexample.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <unordered_map>
#include <vector>

namespace rfutex::model {

template <class Move, std::size_t N>
struct search_result {
  std::size_t states = 0;
  std::size_t transitions = 0;
  // Per property index: the moves from the initial state to a nearest
  // violating state; empty optional when no reachable state violates it.
  std::array<std::optional<std::vector<Move>>, N> shortest;
};

template <std::size_t N, class System, class Violates>
search_result<typename System::move_type, N> breadth_first(const System& sys, Violates violates) {
  using state_t = typename System::state_type;
  using move_t = typename System::move_type;
  constexpr std::uint32_t no_parent = UINT32_MAX;
  struct node {
    std::uint32_t parent;
    move_t via;
  };

  search_result<move_t, N> out;
  std::vector<state_t> states;
  std::vector<node> nodes;
  std::unordered_map<state_t, std::uint32_t, typename System::state_hash> index;
  std::array<std::optional<std::uint32_t>, N> first;

  auto visit = [&](const state_t& s, std::uint32_t parent, move_t via) {
    const auto id = static_cast<std::uint32_t>(states.size());
    if (!index.emplace(s, id).second) return;
    states.push_back(s);
    nodes.push_back({parent, via});
  };

  visit(sys.initial(), no_parent, move_t{});
  std::vector<move_t> moves;
  for (std::uint32_t i = 0; i < states.size(); ++i) {
    const state_t current = states[i];  // a copy: visit() grows `states`
    moves.clear();
    sys.moves(current, moves);
    // Judged in index (= discovery = breadth-first) order.
    for (std::size_t p = 0; p < N; ++p)
      if (!first[p] && violates(current, moves, p)) first[p] = i;
    for (const move_t m : moves) {
      ++out.transitions;
      visit(sys.apply(current, m, nullptr), i, m);
    }
  }

  out.states = states.size();
  for (std::size_t p = 0; p < N; ++p) {
    if (!first[p]) continue;
    std::vector<move_t> path;
    for (std::uint32_t i = *first[p]; nodes[i].parent != no_parent; i = nodes[i].parent)
      path.push_back(nodes[i].via);
    std::reverse(path.begin(), path.end());
    out.shortest[p] = std::move(path);
  }
  return out;
}

// Applies `m` to `s` after checking that `m` is enabled there; throws
// std::logic_error otherwise (a replayed path that does not fit the system).
template <class System, class Step>
typename System::state_type checked_apply(const System& sys, const typename System::state_type& s,
                                          typename System::move_type m, Step* step) {
  std::vector<typename System::move_type> enabled;
  sys.moves(s, enabled);
  if (std::find(enabled.begin(), enabled.end(), m) == enabled.end())
    throw std::logic_error("model: replayed move is not enabled");
  return sys.apply(s, m, step);
}

}  // namespace rfutex::model
