// Breadth-first search over the states of explorer.hpp.
#include "explorer.hpp"

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <unordered_map>

namespace rfutex::model {
namespace {

constexpr std::uint32_t no_parent = UINT32_MAX;

struct node {
  std::uint32_t parent;
  move via;
};

std::vector<move> path_to(const std::vector<node>& nodes, std::uint32_t i) {
  std::vector<move> path;
  for (; nodes[i].parent != no_parent; i = nodes[i].parent) path.push_back(nodes[i].via);
  std::reverse(path.begin(), path.end());
  return path;
}

void check_enabled(const transition_system& sys, const state& s, move m) {
  std::vector<move> enabled;
  sys.moves(s, enabled);
  if (std::find(enabled.begin(), enabled.end(), m) == enabled.end())
    throw std::logic_error("model: replayed move is not enabled");
}

}  // namespace

exploration explore(const transition_system& sys) {
  exploration out;
  std::vector<state> states;
  std::vector<node> nodes;
  std::unordered_map<state, std::uint32_t, state_hash> index;
  std::array<std::optional<std::uint32_t>, property_count> first;

  auto visit = [&](const state& s, std::uint32_t parent, move via) {
    const auto id = static_cast<std::uint32_t>(states.size());
    if (!index.emplace(s, id).second) return;
    states.push_back(s);
    nodes.push_back({parent, via});
    for (property p : all_properties) {
      auto& f = first[static_cast<std::size_t>(p)];
      if (!f && transition_system::violates(s, p)) f = id;
    }
  };

  visit(sys.initial(), no_parent, move{});
  std::vector<move> moves;
  for (std::uint32_t i = 0; i < states.size(); ++i) {
    const state current = states[i];  // a copy: visit() grows `states`
    moves.clear();
    sys.moves(current, moves);
    for (const move m : moves) {
      ++out.transitions;
      visit(sys.apply(current, m, nullptr), i, m);
    }
  }

  out.states = states.size();
  for (std::size_t p = 0; p < property_count; ++p)
    if (first[p]) out.shortest[p] = path_to(nodes, *first[p]);
  return out;
}

std::vector<trace_step> narrate(const transition_system& sys, const std::vector<move>& path) {
  std::vector<trace_step> steps;
  state s = sys.initial();
  for (const move m : path) {
    check_enabled(sys, s, m);
    trace_step step;
    s = sys.apply(s, m, &step);
    steps.push_back(std::move(step));
  }
  return steps;
}

state replay(const transition_system& sys, const std::vector<move>& path) {
  state s = sys.initial();
  for (const move m : path) {
    check_enabled(sys, s, m);
    s = sys.apply(s, m, nullptr);
  }
  return s;
}

}  // namespace rfutex::model
