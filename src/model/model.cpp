// SPDX-License-Identifier: MIT
// check(): options -> transition_system -> exploration -> result; and the names of
// the options and properties.
#include "model.hpp"

#include <chrono>

#include "explorer.hpp"
#include "liveness.hpp"
#include "transitions.hpp"

namespace rfutex::model {

options defaults_for(protocol p, arch a) noexcept {
  options o;
  o.proto = p;
  o.machine = a;
  return o;  // fix-up on, entry model of `a`, correct decider, libc remaps
}

bool entry_notes_user_irq(const options& o) noexcept {
  return o.entry_notes_user_irq.value_or(entry_notes_user_irq_in_7_2(o.machine));
}

std::string_view to_string(protocol p) noexcept {
  switch (p) {
    case protocol::glibc: return "glibc";
    case protocol::vdso: return "vdso";
    case protocol::guarded: return "guarded";
    case protocol::guarded_v1: return "guarded-v1";
    case protocol::hybrid: return "hybrid";
  }
  return "?";
}

std::string_view to_string(arch a) noexcept {
  switch (a) {
    case arch::x86_64: return "x86_64";
    case arch::i386: return "i386";
    case arch::arm64: return "arm64";
  }
  return "?";
}

std::string_view to_string(decider d) noexcept {
  switch (d) {
    case decider::correct: return "correct";
    case decider::naive: return "naive";
    case decider::any_in_range: return "any-in-range";
  }
  return "?";
}

std::string_view to_string(remap r) noexcept { return r == remap::libc ? "libc" : "raw"; }

std::string_view to_string(pending_wake w) noexcept {
  return w == pending_wake::owner_zero ? "owner-zero" : "no-waiters";
}

std::optional<protocol> parse_protocol(std::string_view s) noexcept {
  for (protocol p : all_protocols)
    if (s == to_string(p)) return p;
  return std::nullopt;
}

std::optional<arch> parse_arch(std::string_view s) noexcept {
  for (arch a : {arch::x86_64, arch::i386, arch::arm64})
    if (s == to_string(a)) return a;
  return std::nullopt;
}

std::optional<decider> parse_decider(std::string_view s) noexcept {
  for (decider d : {decider::correct, decider::naive})
    if (s == to_string(d)) return d;
  return std::nullopt;
}

std::optional<remap> parse_remap(std::string_view s) noexcept {
  for (remap r : {remap::libc, remap::raw})
    if (s == to_string(r)) return r;
  return std::nullopt;
}

std::optional<pending_wake> parse_pending_wake(std::string_view s) noexcept {
  for (pending_wake w : {pending_wake::owner_zero, pending_wake::no_waiters})
    if (s == to_string(w)) return w;
  return std::nullopt;
}

std::string_view to_string(property p) noexcept {
  switch (p) {
    case property::no_foreign_write: return "no_foreign_write";
    case property::no_lost_lock: return "no_lost_lock";
    case property::pending_cleared: return "pending_cleared";
    case property::no_lost_wakeup: return "no_lost_wakeup";
  }
  return "?";
}

std::string_view title(property p) noexcept {
  switch (p) {
    case property::no_foreign_write: return "no foreign write";
    case property::no_lost_lock: return "no lost lock";
    case property::pending_cleared: return "pending cleared";
    case property::no_lost_wakeup: return "no lost wake-up";
  }
  return "?";
}

bool result::all_hold() const noexcept { return first_violation() == nullptr; }

const verdict* result::first_violation() const noexcept {
  for (const verdict& v : properties)
    if (!v.holds) return &v;
  return nullptr;
}

result check(const options& o) {
  using clock = std::chrono::steady_clock;
  result r;
  r.opts = o;
  r.effective_user_irq = entry_notes_user_irq(o);

  // The unmap world: the three safety properties.
  auto start = clock::now();
  const transition_system sys(o);
  const exploration e = explore(sys);
  r.elapsed_ms = std::chrono::duration<double, std::milli>(clock::now() - start).count();
  r.initial = transition_system::summary(sys.initial());
  r.states = e.states;
  r.transitions = e.transitions;
  for (std::size_t p = 0; p < property_count; ++p) {
    verdict& v = r.properties[p];
    v.what = all_properties[p];
    v.holds = !e.shortest[p].has_value();
    if (!v.holds) v.counterexample = narrate(sys, *e.shortest[p]);
  }

  // The wake-up world: no lost wake-up.
  start = clock::now();
  const liveness_system live(o);
  const liveness_exploration l = explore(live);
  r.liveness.elapsed_ms = std::chrono::duration<double, std::milli>(clock::now() - start).count();
  r.liveness.initial = live.summary(live.initial());
  r.liveness.states = l.states;
  r.liveness.transitions = l.transitions;
  verdict& w = r.properties[static_cast<std::size_t>(property::no_lost_wakeup)];
  w.holds = !l.shortest.has_value();
  if (!w.holds) w.counterexample = narrate(live, *l.shortest);
  return r;
}

}  // namespace rfutex::model
