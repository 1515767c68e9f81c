// SPDX-License-Identifier: MIT
// Tests of the wake-up world (src/model/liveness.hpp): its counterexamples
// replay to a lost wake-up and are shortest, it terminates (so "nothing left
// to happen" means "forever"), it reaches every step of every program, and
// the two deaths that strand sleepers are runs of it.
#include <gtest/gtest.h>

#include <string>
#include <unordered_map>
#include <vector>

#include "model/liveness.hpp"
#include "model/world.hpp"
#include "model/model.hpp"
#include "param_name.hpp"

namespace rfutex::model {
namespace {

options waking(protocol p, pending_wake rule, unsigned sleepers = 2) {
  options o = defaults_for(p, arch::x86_64);
  o.wake_rule = rule;
  o.sleepers = sleepers;
  return o;
}

std::vector<options> violating_configs() {
  return {waking(protocol::glibc, pending_wake::owner_zero),
          waking(protocol::guarded_v1, pending_wake::no_waiters),
          waking(protocol::guarded_v1, pending_wake::owner_zero, 1),
          waking(protocol::vdso, pending_wake::owner_zero),
          waking(protocol::hybrid, pending_wake::owner_zero)};
}

std::string name(const options& o) {
  return std::string(to_string(o.proto)) + " " + std::string(to_string(o.wake_rule)) + " " +
         std::to_string(o.sleepers);
}

bool lost_here(const liveness_system& sys, const lstate& s) {
  std::vector<lmove> enabled;
  sys.moves(s, enabled);
  return liveness_system::lost_wakeup(s, enabled);
}

// Independent of explore(): depth-first, remembering per state the most
// depth it had left. True when a lost wake-up is reachable in <= depth moves.
bool lost_within(const liveness_system& sys, const lstate& s, int depth,
                 std::unordered_map<lstate, int, lstate_hash>& seen) {
  if (lost_here(sys, s)) return true;
  if (depth == 0) return false;
  const auto [it, fresh] = seen.emplace(s, depth);
  if (!fresh) {
    if (it->second >= depth) return false;
    it->second = depth;
  }
  std::vector<lmove> moves;
  sys.moves(s, moves);
  for (const lmove m : moves)
    if (lost_within(sys, sys.apply(s, m, nullptr), depth - 1, seen)) return true;
  return false;
}

TEST(ModelLiveness, CounterexampleReplaysToALostWakeup) {
  for (const options& o : violating_configs()) {
    SCOPED_TRACE(name(o));
    const liveness_system sys(o);
    const liveness_exploration e = explore(sys);
    ASSERT_TRUE(e.shortest.has_value());
    const lstate end = replay(sys, *e.shortest);
    EXPECT_TRUE(lost_here(sys, end));
    const auto steps = narrate(sys, *e.shortest);
    ASSERT_EQ(steps.size(), e.shortest->size());
    EXPECT_EQ(steps.back().after, sys.summary(end));
    // The command's verdict is this trace.
    const result r = check(o);
    const verdict& v = r.properties[static_cast<std::size_t>(property::no_lost_wakeup)];
    ASSERT_FALSE(v.holds);
    EXPECT_EQ(v.counterexample.size(), steps.size());
    EXPECT_EQ(v.counterexample.back().after, steps.back().after);
  }
}

TEST(ModelLiveness, CounterexampleIsShortest) {
  for (const options& o : violating_configs()) {
    SCOPED_TRACE(name(o));
    const liveness_system sys(o);
    const liveness_exploration e = explore(sys);
    ASSERT_TRUE(e.shortest.has_value());
    const int len = static_cast<int>(e.shortest->size());
    std::unordered_map<lstate, int, lstate_hash> seen;
    EXPECT_FALSE(lost_within(sys, sys.initial(), len - 1, seen));
    seen.clear();
    EXPECT_TRUE(lost_within(sys, sys.initial(), len, seen));
  }
}

// Every run is finite (no cycle among the reachable states): a state with
// nothing enabled is where a run ends, so a sleeper asleep there sleeps for
// good, and no run can leave a sleeper asleep without reaching one.
// Iterative depth-first search with three colours.
class ModelLivenessOf : public ::testing::TestWithParam<options> {};

TEST_P(ModelLivenessOf, EveryRunEnds) {
  const options o = GetParam();
  const liveness_system sys(o);
  enum colour : char { grey, black };
  std::unordered_map<lstate, colour, lstate_hash> seen;
  struct frame {
    lstate s;
    std::vector<lmove> moves;
    std::size_t next;
  };
  std::vector<frame> stack;
  auto push = [&](const lstate& s) {
    seen[s] = grey;
    frame f{s, {}, 0};
    sys.moves(s, f.moves);
    stack.push_back(std::move(f));
  };
  push(sys.initial());
  bool cycle = false;
  std::size_t longest = 0;
  while (!stack.empty() && !cycle) {
    longest = std::max(longest, stack.size());
    frame& f = stack.back();
    if (f.next == f.moves.size()) {
      seen[f.s] = black;
      stack.pop_back();
      continue;
    }
    const lstate n = sys.apply(f.s, f.moves[f.next++], nullptr);
    const auto it = seen.find(n);
    if (it == seen.end())
      push(n);
    else if (it->second == grey)
      cycle = true;
  }
  EXPECT_FALSE(cycle);
  EXPECT_EQ(seen.size(), explore(sys).states);
  EXPECT_LT(longest, 80u);
}

// One test per protocol and pending-op wake rule (each a search of its own).
std::vector<options> every_protocol_and_rule() {
  std::vector<options> out;
  for (protocol p : all_protocols)
    for (pending_wake rule : {pending_wake::no_waiters, pending_wake::owner_zero}) out.push_back(waking(p, rule));
  return out;
}
INSTANTIATE_TEST_SUITE_P(EveryProtocolAndRule, ModelLivenessOf, ::testing::ValuesIn(every_protocol_and_rule()),
                         [](const auto& instance) { return param_name(name(instance.param)); });

// Every step of every program is run by some thread, and every kind of
// thread death happens (so no step is dead code the verdicts do not test).
TEST(ModelLiveness, ReachesEveryStepAndDeath) {
  for (protocol p : all_protocols) {
    const options o = waking(p, pending_wake::owner_zero);
    SCOPED_TRACE(name(o));
    const liveness_system sys(o);
    std::unordered_map<lstate, bool, lstate_hash> seen{{sys.initial(), true}};
    std::vector<lstate> todo{sys.initial()};
    std::vector<bool> pc_run(sys.prog().steps.size(), false);
    bool unlocker_died = false, sleeper_died = false, requeued = false;
    while (!todo.empty()) {
      const lstate s = todo.back();
      todo.pop_back();
      std::vector<lmove> moves;
      sys.moves(s, moves);
      for (const lmove m : moves) {
        if (m.kind == lmove_kind::step) pc_run[s.t[m.thread].pc] = true;
        const lstate n = sys.apply(s, m, nullptr);
        if (m.kind == lmove_kind::kill)
          (m.thread == unlocker_index ? unlocker_died : sleeper_died) = true;
        // A woken sleeper that finds the word held goes back to sleep.
        if (m.thread >= first_sleeper_index && n.t[m.thread].pc == 0) requeued = true;
        if (seen.emplace(n, true).second) todo.push_back(n);
      }
    }
    for (std::size_t i = 0; i < pc_run.size(); ++i) {
      const lop c = sys.prog().steps[i].code;
      if (c == lop::asleep || c == lop::done) continue;  // no step of their own
      EXPECT_TRUE(pc_run[i]) << "never ran step " << i << ": " << sys.prog().steps[i].text;
    }
    EXPECT_TRUE(unlocker_died);
    EXPECT_TRUE(sleeper_died);
    EXPECT_TRUE(requeued);
  }
}

// The index of `p`'s first step with code `c` at or after `from`.
std::uint8_t step_index(const liveness_system& sys, lop c, std::uint8_t from = 0) {
  const auto& steps = sys.prog().steps;
  for (std::size_t i = from; i < steps.size(); ++i)
    if (steps[i].code == c) return static_cast<std::uint8_t>(i);
  ADD_FAILURE() << "no such step";
  return 0;
}

constexpr std::uint8_t u = unlocker_index, tk = taker_index, s1 = first_sleeper_index, s2 = s1 + 1;
constexpr lmove step(std::uint8_t who, std::uint8_t wakes = nobody) {
  return {who, lmove_kind::step, wakes};
}
constexpr lmove kill(std::uint8_t who, std::uint8_t wakes = nobody) {
  return {who, lmove_kind::kill, wakes};
}

// A woken waiter killed after a fast-path take, as a run of the glibc protocol: the unlocker releases
// and wakes sleeper1; the taker takes the free word through the fast path;
// sleeper1 is killed before it runs. On the owner-zero rule nothing wakes
// sleeper2 again; on 7.2's rule the same death wakes it.
TEST(ModelLiveness, WokenWaiterKilledAfterAFastPathTake) {
  const std::vector<lmove> prefix = {
      step(u), step(u), step(u), step(u),  // set pending, unlink, xchg, test waiters
      step(u, s1),                         // FUTEX_WAKE 1: sleeper1
      step(u),                             // clear pending: the unlocker is done
      step(tk),                            // fast path: word = taker, no WAITERS
  };
  const std::vector<lmove> taker_release(5, step(tk));  // pending, unlink, xchg, test, clear
  {
    const liveness_system sys(waking(protocol::glibc, pending_wake::owner_zero));
    std::vector<lmove> run = prefix;
    run.push_back(kill(s1));  // the exit rule wakes nobody: a kill without a choice
    run.insert(run.end(), taker_release.begin(), taker_release.end());
    const lstate end = replay(sys, run);
    EXPECT_TRUE(lost_here(sys, end)) << sys.summary(end);
    EXPECT_EQ(end.t[s2].pc, 0);  // sleeper2 still asleep
    EXPECT_EQ(end.word, 0u);     // on a free lock
  }
  {
    const liveness_system sys(waking(protocol::glibc, pending_wake::no_waiters));
    std::vector<lmove> run = prefix;
    EXPECT_THROW(replay(sys, [&] {
                   auto r = run;
                   r.push_back(kill(s1));  // not enabled: this death must wake someone
                   return r;
                 }()),
                 std::logic_error);
    run.push_back(kill(s1, s2));
    const lstate end = replay(sys, run);
    EXPECT_EQ(end.t[s2].pc, sys.prog().try_pc);  // sleeper2 woken by the kernel
  }
}

// The unlocker of the earlier guarded release: killed between
// clearing pending and FUTEX_WAKE. The kernel finds nothing; no exit rule
// can help. The new guarded release has no such instant: a death before its
// FUTEX_WAKE_OP is an owner death (OWNER_DIED | WAITERS, one woken).
TEST(ModelLiveness, UnlockerKilledBetweenClearAndWake) {
  for (pending_wake rule : {pending_wake::no_waiters, pending_wake::owner_zero}) {
    SCOPED_TRACE(std::string(to_string(rule)));
    const liveness_system v1(waking(protocol::guarded_v1, rule));
    // set pending, unlink, xchg, clear pending; killed before test/wake.
    lstate end = replay(v1, {step(u), step(u), step(u), step(u), kill(u)});
    EXPECT_EQ(end.word, 0u);  // free, and nothing in the kernel points at it
    // The taker may still come: take, pending, unlink, xchg, clear, test.
    for (int i = 0; i < 6; ++i) end = v1.apply(end, step(tk), nullptr);
    EXPECT_TRUE(lost_here(v1, end)) << v1.summary(end);

    const liveness_system now(waking(protocol::guarded, rule));
    // set pending, unlink, CAS fails (WAITERS): at the FUTEX_WAKE_OP, killed.
    lstate s = replay(now, {step(u), step(u), step(u)});
    ASSERT_EQ(s.t[u].pc, step_index(now, lop::wake_op_all));
    s = now.apply(s, kill(u, s1), nullptr);
    EXPECT_EQ(s.word, futex_waiters | futex_owner_died);
    EXPECT_EQ(s.t[s1].pc, now.prog().try_pc);
  }
}

}  // namespace
}  // namespace rfutex::model
