// SPDX-License-Identifier: MIT
// The wake-up world of liveness.hpp: the programs, the steps, the kernel's
// exit processing for a dying thread, the search.
#include "liveness.hpp"

#include <stdexcept>

#include "hex.hpp"
#include "kernel.hpp"
#include "search.hpp"
#include "world.hpp"

namespace rfutex::model {
namespace {

// Emits steps and resolves branch targets by label.
class lbuilder {
 public:
  std::uint8_t add(lop code, std::string_view text, std::string_view label = {},
                   std::string_view target = {}) {
    steps_.push_back(lstep{code, text, 0});
    labels_.push_back(label);
    targets_.push_back(target);
    return static_cast<std::uint8_t>(steps_.size() - 1);
  }
  std::uint8_t at(std::string_view label) const {
    for (std::size_t i = 0; i < labels_.size(); ++i)
      if (labels_[i] == label) return static_cast<std::uint8_t>(i);
    throw std::logic_error("liveness program: unknown label");
  }
  std::vector<lstep> finish() {
    for (std::size_t i = 0; i < steps_.size(); ++i)
      if (!targets_[i].empty()) steps_[i].target = at(targets_[i]);
    return std::move(steps_);
  }

 private:
  std::vector<lstep> steps_;
  std::vector<std::string_view> labels_, targets_;
};

constexpr std::string_view set_pending_text = "list_op_pending = &node";
constexpr std::string_view unlink_text = "unlink node from the robust list";
constexpr std::string_view clear_text = "list_op_pending = 0";

// The release part of each protocol, from `release` on; ends at "done".
void emit_release(lbuilder& b, protocol p) {
  b.add(lop::set_pending, set_pending_text, "release");
  b.add(lop::unlink, unlink_text);
  switch (p) {
    case protocol::glibc:  // __pthread_mutex_unlock_full, robust: wake, then clear
      b.add(lop::exchange, "old = xchg(word, 0)");
      b.add(lop::jump_if_no_waiters, "old & FUTEX_WAITERS ?", "", "clear");
      b.add(lop::wake_one, "futex(lock, FUTEX_WAKE, 1)");
      b.add(lop::clear_pending, clear_text, "clear");
      break;
    case protocol::guarded_v1:  // release_in_user_space, then wake_one
      b.add(lop::exchange, "old = xchg(word, 0)");
      b.add(lop::clear_pending, clear_text);
      b.add(lop::jump_if_no_waiters, "old & FUTEX_WAITERS ?", "", "done");
      b.add(lop::wake_one, "futex(lock, FUTEX_WAKE, 1)");
      break;
    case protocol::guarded:  // finish_release, guarded plain lock
      b.add(lop::cas_release, "CAS word tid -> 0", "", "contended");
      b.add(lop::clear_pending, clear_text);
      b.add(lop::jump, "return", "", "done");
      b.add(lop::wake_op_all, "futex(lock, FUTEX_WAKE_OP, INT_MAX, 0, lock, SET 0)", "contended");
      b.add(lop::clear_pending, clear_text);
      break;
    case protocol::vdso:  // finish_release, kernel strategy
      b.add(lop::vdso_try_unlock, "vDSO try-unlock: cmpxchg tid -> 0", "", "contended");
      b.add(lop::jump, "return", "", "done");
      b.add(lop::robust_unlock_one, "futex(lock, FUTEX_WAKE|FUTEX_ROBUST_UNLOCK, 1, &pending)",
            "contended");
      break;
    case protocol::hybrid:  // release_uncontended, else as the kernel strategy
      b.add(lop::cas_release, "CAS word tid -> 0", "", "contended");
      b.add(lop::clear_pending, clear_text);
      b.add(lop::jump, "return", "", "done");
      b.add(lop::robust_unlock_one, "futex(lock, FUTEX_WAKE|FUTEX_ROBUST_UNLOCK, 1, &pending)",
            "contended");
      break;
  }
  b.add(lop::done, "released", "done");
}

std::uint32_t owner_of(std::uint32_t word) { return word & futex_tid_mask; }

// The step a thread is about to run, for state lines.
std::string_view tag_of(lop c) {
  switch (c) {
    case lop::asleep: return "ASLEEP";
    case lop::acquire_try: return "try";
    case lop::futex_wait: return "wait";
    case lop::link: return "link";
    case lop::clear_pending: return "clear";
    case lop::take_fast: return "idle";
    case lop::set_pending: return "set-pending";
    case lop::unlink: return "unlink";
    case lop::exchange: return "xchg";
    case lop::jump_if_no_waiters: return "test-waiters";
    case lop::wake_one: return "wake";
    case lop::cas_release: return "cas";
    case lop::wake_op_all: return "wake-op";
    case lop::robust_unlock_one: return "robust-unlock";
    case lop::vdso_try_unlock: return "try-unlock";
    case lop::jump: return "ret";
    case lop::done: return "done";
  }
  return "?";
}

}  // namespace

liveness_program make_liveness_program(protocol p) {
  lbuilder b;
  // rfutex's plain acquire (lock_protocol.cpp): pending stays set while
  // asleep; a thread that has slept takes the word with FUTEX_WAITERS.
  b.add(lop::asleep, "asleep in futex(lock, FUTEX_WAIT, v)", "asleep");
  b.add(lop::futex_wait, "futex(lock, FUTEX_WAIT, v)", "wait", "try");
  b.add(lop::acquire_try, "v = word; owner 0 ? CAS v -> tid|WAITERS : CAS v -> v|WAITERS", "try", "wait");
  b.add(lop::link, "link node onto the robust list", "link");
  b.add(lop::clear_pending, "list_op_pending = 0 (acquired)", "", "release");
  b.add(lop::take_fast, "fast path: owner 0 ? CAS -> tid (no WAITERS of its own)", "idle", "release");
  emit_release(b, p);
  liveness_program out;
  out.try_pc = b.at("try");
  out.idle_pc = b.at("idle");
  out.release_pc = b.at("release");
  out.steps = b.finish();
  return out;
}

std::size_t lstate_hash::operator()(const lstate& s) const noexcept {
  std::uint64_t h = s.word;
  for (const lthread& t : s.t) {
    const std::uint64_t small = (std::uint64_t{t.pc} << 3) | (std::uint64_t{t.pending} << 2) |
                                (std::uint64_t{t.linked} << 1) | std::uint64_t{t.dead};
    h = (h ^ small) * 0x100000001b3ull + (h >> 29);
    h = (h ^ t.seen) * 0x100000001b3ull + (h >> 29);
  }
  return static_cast<std::size_t>(h);
}

liveness_system::liveness_system(const options& o)
    : opts_(o), prog_(make_liveness_program(o.proto)), threads_(first_sleeper_index + o.sleepers) {
  if (o.sleepers < 1 || o.sleepers > 2) throw std::logic_error("liveness world: 1 or 2 sleepers");
}

lstate liveness_system::initial() const noexcept {
  lstate s;
  s.word = liveness_tids[unlocker_index] | futex_waiters;  // held, sleepers queued
  const std::uint8_t done = static_cast<std::uint8_t>(prog_.steps.size() - 1);
  for (std::size_t i = 0; i < max_threads; ++i) s.t[i].pc = done;  // absent threads
  s.t[unlocker_index] = lthread{prog_.release_pc, 0, false, true, false};
  s.t[taker_index] = lthread{prog_.idle_pc, 0, false, false, false};
  for (std::size_t i = first_sleeper_index; i < threads_; ++i)
    s.t[i] = lthread{0, s.word, true, false, false};  // asleep, pending set
  return s;
}

std::string_view liveness_system::name(std::size_t thread) const noexcept {
  static constexpr std::string_view names[] = {"unlocker", "taker", "sleeper1", "sleeper2"};
  return names[thread];
}

bool liveness_system::exit_wakes(const lstate& s, std::size_t i) const noexcept {
  const lthread& t = s.t[i];
  const std::uint32_t tid = liveness_tids[i];
  const bool owner = owner_of(s.word) == tid;
  // exit_robust_list(): a listed node that is also pending is handled once,
  // as the pending op; handle_futex_death() on the word either way.
  if (!t.linked && !t.pending) return false;
  if (owner) return (s.word & futex_waiters) != 0;  // OWNER_DIED, wake if WAITERS
  return t.pending && pending_op_wakes(opts_.wake_rule, s.word);
}

bool liveness_system::step_wakes_one(const lstate& s, std::size_t i) const noexcept {
  const lstep& st = prog_.steps[s.t[i].pc];
  return st.code == lop::wake_one || st.code == lop::robust_unlock_one;
}

void liveness_system::wake_choices(const lstate& s, std::uint8_t thread, lmove_kind k,
                                   std::vector<lmove>& out) const {
  bool any = false;
  for (std::size_t j = first_sleeper_index; j < threads_; ++j) {
    if (s.t[j].dead || s.t[j].pc != 0) continue;
    out.push_back({thread, k, static_cast<std::uint8_t>(j)});
    any = true;
  }
  if (!any) out.push_back({thread, k, nobody});  // a wake that finds nobody queued
}

void liveness_system::moves(const lstate& s, std::vector<lmove>& out) const {
  for (std::size_t i = 0; i < threads_; ++i) {
    const lthread& t = s.t[i];
    const auto id = static_cast<std::uint8_t>(i);
    const lop code = prog_.steps[t.pc].code;
    if (t.dead || code == lop::done || code == lop::asleep) continue;
    if (code == lop::take_fast) {
      // The taker may come whenever the word's owner part is 0 (or never).
      if (owner_of(s.word) == 0) out.push_back({id, lmove_kind::step, nobody});
      continue;
    }
    if (step_wakes_one(s, i))
      wake_choices(s, id, lmove_kind::step, out);
    else
      out.push_back({id, lmove_kind::step, nobody});
    if (i == taker_index) continue;  // the taker is never killed
    if (exit_wakes(s, i))
      wake_choices(s, id, lmove_kind::kill, out);
    else
      out.push_back({id, lmove_kind::kill, nobody});
  }
}

void liveness_system::wake(lstate& s, std::uint8_t who, std::vector<std::string>* log) const {
  if (who == nobody) {
    if (log) log->push_back("no thread is queued: nobody woken");
    return;
  }
  s.t[who].pc = prog_.try_pc;
  if (log) log->push_back(std::string(name(who)) + " woken");
}

void liveness_system::die(lstate& s, std::size_t i, std::vector<std::string>* log) const {
  lthread& t = s.t[i];
  const std::uint32_t tid = liveness_tids[i];
  auto say = [log](std::string line) {
    if (log) log->push_back(std::move(line));
  };
  say(std::string("exit_robust_list: list ") + (t.linked ? "holds &node" : "empty") +
      ", list_op_pending " + (t.pending ? "= &node" : "= 0"));
  if (t.linked || t.pending) {
    const std::uint32_t uval = s.word;
    const char* which = t.pending ? "pending op" : "list entry";
    if (owner_of(uval) == tid) {
      s.word = owner_died_value(uval);
      say(std::string("  handle_futex_death(") + which + "): word " + hex(uval) +
          ", owner = dying TID: store " + hex(s.word) +
          ((uval & futex_waiters) ? " (OWNER_DIED|WAITERS), wake one" : " (OWNER_DIED), no wake"));
    } else {
      const bool w = t.pending && pending_op_wakes(opts_.wake_rule, uval);
      say(std::string("  handle_futex_death(") + which + "): word " + hex(uval) + ", owner " +
          std::to_string(owner_of(uval)) + " != " + std::to_string(tid) + ": no write, " +
          (w ? "pending-op wake of one waiter" : "NO WAKE") + " (" +
          std::string(to_string(opts_.wake_rule)) + " rule)");
    }
  }
  t.dead = true;
  t.pending = false;
  t.linked = false;
}

lstate liveness_system::apply(const lstate& s, lmove m, trace_step* step) const {
  lstate n = s;
  const std::size_t i = m.thread;
  lthread& t = n.t[i];
  const lstep& st = prog_.steps[t.pc];
  const std::uint32_t tid = liveness_tids[i];
  std::vector<std::string>* log = step ? &step->effects : nullptr;
  auto say = [log](std::string line) {
    if (log) log->push_back(std::move(line));
  };

  if (m.kind == lmove_kind::kill) {
    const bool wakes = exit_wakes(s, i);
    if (step) {
      step->actor = "kernel";
      step->at = std::string(name(i)) + " at " + std::string(st.text);
      step->action = "SIGKILL of " + std::string(name(i));
    }
    die(n, i, log);
    if (wakes) wake(n, m.wakes, log);
    if (step) step->after = summary(n);
    return n;
  }

  if (step) {
    step->actor = std::string(name(i));
    step->at = "";
    step->action = std::string(st.text);
  }
  std::uint8_t next = static_cast<std::uint8_t>(t.pc + 1);
  switch (st.code) {
    case lop::asleep:
    case lop::done:
      throw std::logic_error("liveness world: a step from a thread that cannot move");
    case lop::acquire_try: {
      const std::uint32_t v = n.word;
      if (owner_of(v) == 0) {
        // It slept, so it takes the word with FUTEX_WAITERS (others may sleep).
        n.word = tid | futex_waiters;
        say("word " + hex(v) + " -> " + hex(n.word) + ": ACQUIRED");
      } else {
        n.word = v | futex_waiters;
        t.seen = n.word;
        next = st.target;
        say("word " + hex(v) + " held: " + ((v & futex_waiters) ? "FUTEX_WAITERS already set"
                                                                 : "set FUTEX_WAITERS -> " + hex(n.word)));
      }
      break;
    }
    case lop::futex_wait:
      if (n.word == t.seen) {
        next = 0;
        say("word == " + hex(t.seen) + ": queued, asleep");
      } else {
        next = st.target;
        say("word " + hex(n.word) + " != " + hex(t.seen) + ": EAGAIN, retry");
      }
      break;
    case lop::link:
      t.linked = true;
      break;
    case lop::clear_pending:
      t.pending = false;
      // The acquire's clear continues at the release (its target); a
      // release's clear falls through (target 0 is `asleep`, never a branch).
      if (st.target != 0) next = st.target;
      break;
    case lop::take_fast: {
      const std::uint32_t v = n.word;
      n.word = tid | (v & futex_waiters);
      t.linked = true;
      next = st.target;
      say("word " + hex(v) + " -> " + hex(n.word) + ": ACQUIRED" +
          ((v & futex_waiters) ? "" : " (no FUTEX_WAITERS)"));
      break;
    }
    case lop::set_pending:
      t.pending = true;
      break;
    case lop::unlink:
      t.linked = false;
      break;
    case lop::exchange:
      t.seen = n.word;
      n.word = 0;
      say("word " + hex(t.seen) + " -> 0: RELEASED");
      break;
    case lop::jump_if_no_waiters:
      if ((t.seen & futex_waiters) == 0) next = st.target;
      say((t.seen & futex_waiters) ? "waiters: wake" : "no waiters");
      break;
    case lop::wake_one:
      say("kernel: wake one");
      wake(n, m.wakes, log);
      break;
    case lop::cas_release:
    case lop::vdso_try_unlock:
      if (n.word == tid) {
        n.word = 0;
        if (st.code == lop::vdso_try_unlock) t.pending = false;  // the vDSO's store (fix-up on death)
        say(std::string("word ") + hex(tid) + " -> 0: RELEASED" +
            (st.code == lop::vdso_try_unlock ? ", list_op_pending = 0" : ""));
      } else {
        next = st.target;
        say("word " + hex(n.word) + " != tid: contended");
      }
      break;
    case lop::wake_op_all: {
      say("kernel: word " + hex(n.word) + " -> 0: RELEASED, and every sleeper woken, in one step");
      n.word = 0;
      bool any = false;
      for (std::size_t j = first_sleeper_index; j < threads_; ++j) {
        if (n.t[j].dead || n.t[j].pc != 0) continue;
        n.t[j].pc = prog_.try_pc;
        any = true;
        say(std::string(name(j)) + " woken");
      }
      if (!any) say("no thread is queued: nobody woken");
      break;
    }
    case lop::robust_unlock_one:
      say("kernel: word " + hex(n.word) + " -> 0: RELEASED, list_op_pending = 0, wake one");
      n.word = 0;
      t.pending = false;
      wake(n, m.wakes, log);
      break;
    case lop::jump:
      next = st.target;
      break;
  }
  t.pc = next;
  if (step) step->after = summary(n);
  return n;
}

bool liveness_system::lost_wakeup(const lstate& s, const std::vector<lmove>& enabled) noexcept {
  if (!enabled.empty()) return false;
  for (std::size_t j = first_sleeper_index; j < max_threads; ++j)
    if (!s.t[j].dead && s.t[j].pc == 0) return true;
  return false;
}

std::string liveness_system::summary(const lstate& s) const {
  std::string out = "word=" + hex(s.word);
  for (std::size_t i = 0; i < threads_; ++i) {
    const lthread& t = s.t[i];
    const lstep& st = prog_.steps[t.pc];
    out += ' ';
    out += name(i);
    out += '=';
    if (t.dead) {
      out += "DEAD";
    } else {
      // "acq:" / "rel:": about to run that step of the acquire / release.
      if (st.code != lop::asleep && st.code != lop::done && st.code != lop::take_fast)
        out += t.pc < prog_.release_pc ? "acq:" : "rel:";
      out += tag_of(st.code);
    }
    if (!t.dead && t.pending) out += "/pending";
  }
  return out;
}

liveness_exploration explore(const liveness_system& sys) {
  const auto found = breadth_first<1>(sys, [](const lstate& s, const std::vector<lmove>& enabled,
                                               std::size_t) {
    return liveness_system::lost_wakeup(s, enabled);
  });
  liveness_exploration out;
  out.states = found.states;
  out.transitions = found.transitions;
  out.shortest = found.shortest[0];
  return out;
}

std::vector<trace_step> narrate(const liveness_system& sys, const std::vector<lmove>& path) {
  std::vector<trace_step> steps;
  lstate s = sys.initial();
  for (const lmove m : path) {
    trace_step step;
    s = checked_apply(sys, s, m, &step);
    steps.push_back(std::move(step));
  }
  return steps;
}

lstate replay(const liveness_system& sys, const std::vector<lmove>& path) {
  lstate s = sys.initial();
  for (const lmove m : path) s = checked_apply(sys, s, m, static_cast<trace_step*>(nullptr));
  return s;
}

}  // namespace rfutex::model
