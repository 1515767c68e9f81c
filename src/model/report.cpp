// SPDX-License-Identifier: MIT
// The two output formats of report.hpp. Hand-written JSON: the schema is
// small and fixed, and the tool must not depend on a JSON library.
#include "report.hpp"

#include <cstdio>

#include "world.hpp"

namespace rfutex::model {
namespace {

std::string milliseconds(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.3f", v);
  return buf;
}

std::string options_line(const result& r) {
  const options& o = r.opts;
  std::string s = "fix-up ";
  s += o.fixup ? "on" : "OFF";
  s += ", entry notes user_irq: ";
  s += r.effective_user_irq ? "yes" : "no";
  s += o.entry_notes_user_irq ? " (forced)" : " (7.2 on this arch)";
  s += ", decider ";
  s += to_string(o.decide);
  s += ", remaps via ";
  s += to_string(o.remapping);
  s += guard_active(o) ? " (unmap guard active)" : " (no unmap guard)";
  return s;
}

std::string liveness_line(const result& r) {
  const options& o = r.opts;
  std::string s = "wake-up world: ";
  s += std::to_string(o.sleepers);
  s += o.sleepers == 1 ? " sleeper" : " sleepers";
  s += ", a fast-path taker; pending-op wake at exit: ";
  s += to_string(o.wake_rule);
  s += o.wake_rule == pending_wake::no_waiters ? " (7.2)" : " (before the 6.x stable backport)";
  return s;
}

const std::string& initial_of(const result& r, const verdict& v) {
  return v.what == property::no_lost_wakeup ? r.liveness.initial : r.initial;
}

void append_trace(std::string& out, const std::string& initial, const std::vector<trace_step>& steps) {
  out += "   0  initial   " + initial + "\n";
  for (std::size_t i = 0; i < steps.size(); ++i) {
    const trace_step& st = steps[i];
    char head[64];
    std::snprintf(head, sizeof head, "%4zu  %-8s  ", i + 1, st.actor.c_str());
    std::string line = head;
    if (!st.at.empty()) {
      line += st.at;
      if (st.at.size() < 24) line.append(24 - st.at.size(), ' ');
      line += "  ";
    }
    line += st.action;
    out += line + "\n";
    for (const std::string& e : st.effects) out += "                -> " + e + "\n";
    out += "                   [" + st.after + "]\n";
  }
}

void append_json_string(std::string& out, std::string_view s) {
  out += '"';
  for (const char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(static_cast<unsigned char>(c)));
          out += buf;
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

void append_json_trace(std::string& out, const std::vector<trace_step>& steps) {
  out += '[';
  for (std::size_t i = 0; i < steps.size(); ++i) {
    const trace_step& st = steps[i];
    if (i) out += ',';
    out += "{\"step\":" + std::to_string(i + 1) + ",\"actor\":";
    append_json_string(out, st.actor);
    out += ",\"at\":";
    append_json_string(out, st.at);
    out += ",\"action\":";
    append_json_string(out, st.action);
    out += ",\"effects\":[";
    for (std::size_t e = 0; e < st.effects.size(); ++e) {
      if (e) out += ',';
      append_json_string(out, st.effects[e]);
    }
    out += "],\"state\":";
    append_json_string(out, st.after);
    out += '}';
  }
  out += ']';
}

}  // namespace

std::string format_text(const result& r) {
  std::string out = "rfutex model: protocol ";
  out += to_string(r.opts.proto);
  out += ", arch ";
  out += to_string(r.opts.machine);
  out += "\n  " + options_line(r) + "\n";
  char tids[160];
  std::snprintf(tids, sizeof tids,
                "  TIDs: unlocker %u (0x%x), other thread %u (0x%x); the file's word holds 0x%x\n",
                unlocker_tid, unlocker_tid, other_tid, other_tid, unlocker_tid);
  out += tids;
  out += "  explored " + std::to_string(r.states) + " states, " + std::to_string(r.transitions) +
         " transitions in " + milliseconds(r.elapsed_ms) + " ms\n";
  out += "  " + liveness_line(r) + "\n";
  out += "  explored " + std::to_string(r.liveness.states) + " states, " +
         std::to_string(r.liveness.transitions) + " transitions in " +
         milliseconds(r.liveness.elapsed_ms) + " ms\n\n";
  for (const verdict& v : r.properties) {
    std::string name(title(v.what));
    name.resize(18, ' ');
    out += "  " + name + (v.holds ? "holds\n" : "VIOLATED\n");
  }
  for (const verdict& v : r.properties) {
    if (v.holds) continue;
    out += "\nshortest counterexample for \"" + std::string(title(v.what)) + "\" (" +
           std::to_string(v.counterexample.size()) + " steps):\n";
    append_trace(out, initial_of(r, v), v.counterexample);
  }
  out += r.all_hold() ? "\nall properties hold\n" : "\nviolation found\n";
  return out;
}

std::string format_json(const result& r) {
  const options& o = r.opts;
  std::string out = "{\"protocol\":";
  append_json_string(out, to_string(o.proto));
  out += ",\"arch\":";
  append_json_string(out, to_string(o.machine));
  out += ",\"options\":{\"fixup\":";
  out += o.fixup ? "true" : "false";
  out += ",\"entry_notes_user_irq\":";
  out += r.effective_user_irq ? "true" : "false";
  out += ",\"decider\":";
  append_json_string(out, to_string(o.decide));
  out += ",\"remap\":";
  append_json_string(out, to_string(o.remapping));
  out += ",\"guard\":";
  out += guard_active(o) ? "true" : "false";
  out += ",\"pending_wake\":";
  append_json_string(out, to_string(o.wake_rule));
  out += ",\"sleepers\":" + std::to_string(o.sleepers);
  out += "},\"states\":" + std::to_string(r.states);
  out += ",\"transitions\":" + std::to_string(r.transitions);
  out += ",\"elapsed_ms\":" + milliseconds(r.elapsed_ms);
  out += ",\"liveness\":{\"states\":" + std::to_string(r.liveness.states);
  out += ",\"transitions\":" + std::to_string(r.liveness.transitions);
  out += ",\"elapsed_ms\":" + milliseconds(r.liveness.elapsed_ms);
  out += ",\"initial\":";
  append_json_string(out, r.liveness.initial);
  out += '}';
  out += ",\"properties\":{";
  for (std::size_t i = 0; i < r.properties.size(); ++i) {
    if (i) out += ',';
    append_json_string(out, to_string(r.properties[i].what));
    out += r.properties[i].holds ? ":true" : ":false";
  }
  out += "},\"all_hold\":";
  out += r.all_hold() ? "true" : "false";
  out += ",\"initial\":";
  append_json_string(out, r.initial);
  const verdict* first = r.first_violation();
  out += ",\"counterexample_property\":";
  if (first)
    append_json_string(out, to_string(first->what));
  else
    out += "null";
  out += ",\"counterexample\":";
  append_json_trace(out, first ? first->counterexample : std::vector<trace_step>{});
  out += ",\"counterexamples\":{";
  bool any = false;
  for (const verdict& v : r.properties) {
    if (v.holds) continue;
    if (any) out += ',';
    any = true;
    append_json_string(out, to_string(v.what));
    out += ':';
    append_json_trace(out, v.counterexample);
  }
  out += "}}\n";
  return out;
}

}  // namespace rfutex::model
