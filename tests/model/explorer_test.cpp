// SPDX-License-Identifier: MIT
// Tests of the explorer itself: its counterexamples replay to the violation
// and are shortest, its state count is deterministic and agrees with an
// independent search, and it reaches every part of the programs.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "model/explorer.hpp"
#include "model/model.hpp"
#include "model/report.hpp"
#include "model/transitions.hpp"
#include "param_name.hpp"

namespace rfutex::model {
namespace {

// Configurations with at least one violated property each.
std::vector<options> violating_configs() {
  std::vector<options> out;
  for (arch a : {arch::x86_64, arch::i386, arch::arm64}) out.push_back(defaults_for(protocol::glibc, a));
  options o = defaults_for(protocol::vdso, arch::x86_64);
  o.fixup = false;
  out.push_back(o);
  out.push_back(defaults_for(protocol::vdso, arch::arm64));
  o = defaults_for(protocol::vdso, arch::arm64);
  o.entry_notes_user_irq = true;
  o.decide = decider::naive;
  out.push_back(o);
  o = defaults_for(protocol::guarded, arch::i386);
  o.remapping = remap::raw;
  out.push_back(o);
  o = defaults_for(protocol::vdso, arch::x86_64);
  o.decide = decider::any_in_range;
  out.push_back(o);
  return out;
}

std::string name(const options& o) {
  return std::string(to_string(o.proto)) + "/" + std::string(to_string(o.machine)) +
         (o.fixup ? "" : " no-fixup") + " decider=" + std::string(to_string(o.decide)) +
         " remap=" + std::string(to_string(o.remapping));
}

// Independent of explore(): a depth-first search that remembers, per state,
// the most depth it had left when it was visited. True when a state
// violating `p` is reachable in at most `depth` moves.
bool violation_within(const transition_system& sys, property p, const state& s, int depth,
                      std::vector<std::pair<state, int>>& seen) {
  if (transition_system::violates(s, p)) return true;
  if (depth == 0) return false;
  const auto known = std::find_if(seen.begin(), seen.end(), [&s](const auto& e) { return e.first == s; });
  if (known == seen.end()) {
    seen.emplace_back(s, depth);
  } else {
    if (known->second >= depth) return false;  // searched from here with more moves left
    known->second = depth;
  }
  std::vector<move> moves;
  sys.moves(s, moves);
  for (const move m : moves)
    if (violation_within(sys, p, sys.apply(s, m, nullptr), depth - 1, seen)) return true;
  return false;
}

// Every state reachable from the initial one, by plain depth-first search
// over a vector (no hashing), plus the number of transitions taken.
std::vector<state> reachable(const transition_system& sys, std::size_t& transitions) {
  std::vector<state> seen{sys.initial()};
  std::vector<state> todo{sys.initial()};
  transitions = 0;
  while (!todo.empty()) {
    const state s = todo.back();
    todo.pop_back();
    std::vector<move> moves;
    sys.moves(s, moves);
    for (const move m : moves) {
      ++transitions;
      const state n = sys.apply(s, m, nullptr);
      bool known = false;
      for (const state& k : seen) known = known || k == n;
      if (!known) {
        seen.push_back(n);
        todo.push_back(n);
      }
    }
  }
  return seen;
}

TEST(ModelExplorer, CounterexampleReplaysToTheViolation) {
  for (const options& o : violating_configs()) {
    SCOPED_TRACE(name(o));
    const transition_system sys(o);
    const exploration e = explore(sys);
    bool any = false;
    for (property p : all_properties) {
      const auto& path = e.shortest[static_cast<std::size_t>(p)];
      if (!path) continue;
      any = true;
      const state end = replay(sys, *path);
      EXPECT_TRUE(transition_system::violates(end, p)) << to_string(p);
      // The narrated trace describes the same run, step for step.
      const auto steps = narrate(sys, *path);
      ASSERT_EQ(steps.size(), path->size());
      EXPECT_EQ(steps.back().after, transition_system::summary(end));
    }
    EXPECT_TRUE(any);
  }
}

TEST(ModelExplorer, CounterexampleIsShortest) {
  for (const options& o : violating_configs()) {
    SCOPED_TRACE(name(o));
    const transition_system sys(o);
    const exploration e = explore(sys);
    for (property p : all_properties) {
      const auto& path = e.shortest[static_cast<std::size_t>(p)];
      if (!path) continue;
      SCOPED_TRACE(std::string(to_string(p)));
      const int len = static_cast<int>(path->size());
      std::vector<std::pair<state, int>> seen;
      EXPECT_FALSE(violation_within(sys, p, sys.initial(), len - 1, seen));
      seen.clear();
      EXPECT_TRUE(violation_within(sys, p, sys.initial(), len, seen));
    }
  }
}

TEST(ModelExplorer, NoViolationMeansNoneWithinAnyDepth) {
  const transition_system sys(defaults_for(protocol::vdso, arch::x86_64));
  const exploration e = explore(sys);
  for (property p : all_properties) {
    ASSERT_FALSE(e.shortest[static_cast<std::size_t>(p)].has_value());
    std::vector<std::pair<state, int>> seen;
    EXPECT_FALSE(violation_within(sys, p, sys.initial(), 64, seen)) << to_string(p);
  }
}

TEST(ModelExplorer, StateCountAgreesWithIndependentSearch) {
  std::vector<options> configs = violating_configs();
  configs.push_back(defaults_for(protocol::vdso, arch::x86_64));
  configs.push_back(defaults_for(protocol::guarded, arch::arm64));
  for (const options& o : configs) {
    SCOPED_TRACE(name(o));
    const transition_system sys(o);
    std::size_t transitions = 0;
    const auto states = reachable(sys, transitions);
    const exploration e = explore(sys);
    EXPECT_EQ(e.states, states.size());
    EXPECT_EQ(e.transitions, transitions);
  }
}

class ModelExplorerOf : public ::testing::TestWithParam<options> {};

TEST_P(ModelExplorerOf, ResultIsDeterministic) {
  const options& o = GetParam();
  result a = check(o);
  result b = check(o);
  EXPECT_EQ(a.states, b.states);
  EXPECT_EQ(a.transitions, b.transitions);
  a.elapsed_ms = b.elapsed_ms = 0;
  a.liveness.elapsed_ms = b.liveness.elapsed_ms = 0;
  EXPECT_EQ(format_json(a), format_json(b));
  EXPECT_EQ(format_text(a), format_text(b));
}

INSTANTIATE_TEST_SUITE_P(ViolatingConfigs, ModelExplorerOf, ::testing::ValuesIn(violating_configs()),
                         [](const auto& instance) { return param_name(name(instance.param)); });

// The exploration reaches every instruction of every program, both the
// uncontended and the contended path, a handler, and a death.
TEST(ModelExplorer, ReachesEveryInstructionHandlerAndDeath) {
  for (protocol p : all_protocols) {
    for (arch a : {arch::x86_64, arch::i386, arch::arm64}) {
      SCOPED_TRACE(std::string(to_string(p)) + "/" + std::string(to_string(a)));
      const transition_system sys(defaults_for(p, a));
      std::size_t transitions = 0;
      const auto states = reachable(sys, transitions);
      std::vector<bool> pc_seen(sys.prog().size(), false);
      bool handler = false, dead = false, remapped = false;
      for (const state& s : states) {
        if (s.where == mode::user) pc_seen[s.pc] = true;
        handler = handler || s.where == mode::handler;
        dead = dead || s.where == mode::dead;
        remapped = remapped || s.mapped == page::file;
      }
      for (std::size_t i = 0; i < pc_seen.size(); ++i)
        EXPECT_TRUE(pc_seen[i]) << "never at " << describe_location(sys.prog().code[i]);
      EXPECT_TRUE(handler);
      EXPECT_TRUE(dead);
      EXPECT_TRUE(remapped);
    }
  }
}

TEST(ModelExplorer, ReplayRejectsADisabledMove) {
  const transition_system sys(defaults_for(protocol::glibc, arch::x86_64));
  // The other thread cannot acquire a lock the unlocker still holds.
  EXPECT_THROW(replay(sys, {move{move_kind::other_acquire, 0}}), std::logic_error);
}

TEST(ModelExplorer, EqualStatesHashEqually) {
  state a, b;
  a.pc = b.pc = 3;
  a.pending = b.pending = true;
  EXPECT_EQ(state_hash{}(a), state_hash{}(b));
  b.monitor = true;
  EXPECT_FALSE(a == b);
}

}  // namespace
}  // namespace rfutex::model
