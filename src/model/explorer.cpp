// SPDX-License-Identifier: MIT
// The unmap world's exploration: the shared breadth-first search (search.hpp)
// over transitions.hpp, judged on the three safety properties.
#include "explorer.hpp"

#include "search.hpp"

namespace rfutex::model {

exploration explore(const transition_system& sys) {
  const auto found = breadth_first<property_count>(
      sys, [](const state& s, const std::vector<move>&, std::size_t p) {
        return transition_system::violates(s, all_properties[p]);
      });
  exploration out;
  out.states = found.states;
  out.transitions = found.transitions;
  out.shortest = found.shortest;
  return out;
}

std::vector<trace_step> narrate(const transition_system& sys, const std::vector<move>& path) {
  std::vector<trace_step> steps;
  state s = sys.initial();
  for (const move m : path) {
    trace_step step;
    s = checked_apply(sys, s, m, &step);
    steps.push_back(std::move(step));
  }
  return steps;
}

state replay(const transition_system& sys, const std::vector<move>& path) {
  state s = sys.initial();
  for (const move m : path) s = checked_apply(sys, s, m, static_cast<trace_step*>(nullptr));
  return s;
}

}  // namespace rfutex::model
