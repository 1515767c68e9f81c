// SPDX-License-Identifier: MIT
// The transition relation of transitions.hpp: the unlocker's instructions, the
// kernel visits, the other thread's steps.
#include "transitions.hpp"

#include <cstdio>
#include <stdexcept>

#include "hex.hpp"

namespace rfutex::model {
namespace {

const char* signal_words(signal_kind k) {
  switch (k) {
    case signal_kind::none: return "no signal";
    case signal_kind::fatal: return "SIGKILL";
    case signal_kind::handler: return "a handled signal";
  }
  return "";
}

bool is_syscall(op c) {
  return c == op::sys_futex_wake || c == op::sys_robust_unlock || c == op::sys_wake_op;
}

}  // namespace

transition_system::transition_system(const options& o)
    : opts_(o),
      user_irq_(entry_notes_user_irq(o)),
      guard_(guard_active(o)),
      prog_(make_program(o.proto, o.machine)),
      kernel_(o, prog_) {}

void transition_system::moves(const state& s, std::vector<move>& out) const {
  // A death kills the whole thread group: nothing happens after it.
  if (s.where == mode::dead) return;

  if (s.where == mode::user) {
    const instruction& i = prog_.code[s.pc];
    if (i.code == op::stlxr) {
      out.push_back({move_kind::exec, 0});
      if (s.monitor) out.push_back({move_kind::exec, 1});
    } else if (is_syscall(i.code)) {
      for (std::uint8_t k = 0; k < signal_kinds; ++k) out.push_back({move_kind::exec, k});
    } else if (i.code != op::done) {
      out.push_back({move_kind::exec, 0});
    }
    // Also after `done`: the thread lives on, and may be killed there.
    for (std::uint8_t k = 0; k < signal_kinds; ++k) out.push_back({move_kind::interrupt, k});
  } else {
    out.push_back({move_kind::handler_crash, 0});
    for (std::uint8_t k = 0; k < signal_kinds; ++k) out.push_back({move_kind::sigreturn, k});
  }

  const bool lock_mapped = s.mapped == page::lock;
  switch (s.other) {
    case other_phase::idle:
      if (lock_mapped && s.lock_word == unlocker_tid) out.push_back({move_kind::other_wait, 0});
      if (lock_mapped && s.lock_word == 0) out.push_back({move_kind::other_acquire, 0});
      break;
    case other_phase::waiting:
      if (lock_mapped && s.lock_word == 0) out.push_back({move_kind::other_acquire, 0});
      break;
    case other_phase::owner:
      out.push_back({guard_ ? move_kind::other_guard : move_kind::other_remap, 0});
      break;
    case other_phase::guarded:
      out.push_back({move_kind::other_remap, 0});
      break;
    case other_phase::remapped:
      break;
  }
}

void transition_system::exec(state& n, std::uint8_t choice, trace_step* step) const {
  const instruction& i = prog_.code[n.pc];
  effect_log* log = step ? &step->effects : nullptr;
  auto say = [log](std::string line) {
    if (log) log->push_back(std::move(line));
  };
  if (step) {
    step->actor = "unlocker";
    step->at = describe_location(i);
    step->action = std::string(i.text);
  }
  std::uint8_t next = static_cast<std::uint8_t>(n.pc + 1);
  std::uint32_t& word = word_at_lock_address(n);
  switch (i.code) {
    case op::set_pending:
      n.pending = true;
      say("list_op_pending = &node");
      break;
    case op::unlink:
      n.linked = false;
      say("node removed from the robust list");
      break;
    case op::nop:
      break;
    case op::load_tid:
      n.acc = unlocker_tid;
      break;
    case op::cmpxchg:
      if (word == n.acc) {
        word = 0;
        n.zf = true;
        say("lock word " + hex(unlocker_tid) + " -> 0: RELEASED, ZF=1");
      } else {
        n.acc = word;
        n.zf = false;
        say("lock word " + hex(word) + " != tid: unchanged, ZF=0");
      }
      break;
    case op::exchange:
      n.acc = word;
      say("lock word " + hex(word) + " -> 0: RELEASED");
      word = 0;
      break;
    case op::jump:
      next = i.target;
      break;
    case op::jump_if_nz:
      if (!n.zf) next = i.target;
      say(n.zf ? "not taken" : "taken");
      break;
    case op::jump_if_acc_not_tid:
      if (n.acc != unlocker_tid) next = i.target;
      say(n.acc != unlocker_tid ? "taken (not released: waiters)" : "not taken (released)");
      break;
    case op::jump_if_no_waiters:
      if ((n.acc & futex_waiters) == 0) next = i.target;
      say((n.acc & futex_waiters) ? "waiters: wake them" : "no waiters");
      break;
    case op::clear_pending:
      n.pending = false;
      say("list_op_pending = 0");
      break;
    case op::ldxr:
      n.acc = word;
      n.monitor = true;
      say("w4 = " + hex(word) + ", exclusive monitor armed");
      break;
    case op::cmp_tid:
      n.zf = n.acc == unlocker_tid;
      say(n.zf ? "Z=1" : "Z=0");
      break;
    case op::stlxr:
      if (n.monitor && choice == 0) {
        word = 0;
        n.w3 = 0;
        say("store-exclusive succeeds: lock word -> 0: RELEASED, w3=0");
      } else {
        n.w3 = 1;
        say(n.monitor ? "store-exclusive fails spuriously, w3=1"
                      : "store-exclusive fails (monitor lost), w3=1");
      }
      n.monitor = false;
      break;
    case op::cbnz_w3:
      if (n.w3 != 0) next = i.target;
      say(n.w3 != 0 ? "taken: retry" : "not taken");
      break;
    case op::sys_futex_wake:
    case op::sys_robust_unlock:
    case op::sys_wake_op: {
      if (i.code == op::sys_robust_unlock)
        kernel_.robust_unlock(n, log);
      else if (i.code == op::sys_wake_op)
        kernel_.store_zero_and_wake(n, log);
      else
        say("kernel: wake one waiter");
      n.pc = next;
      const auto sig = static_cast<signal_kind>(choice);
      if (step) step->action += std::string("  [at syscall exit: ") + signal_words(sig) + "]";
      // A syscall entry does not note user_irq: the fix-up, if it ran, would
      // return at once. Harmless here: no syscall sits inside a range.
      kernel_.exit_to_user_mode(n, prog_.code[n.pc].address(), false, sig, log);
      return;
    }
    case op::done:
      throw std::logic_error("model: exec past the end of the unlock program");
  }
  n.pc = next;
}

state transition_system::apply(const state& s, move m, trace_step* step) const {
  state n = s;
  effect_log* log = step ? &step->effects : nullptr;
  auto describe = [step](const char* actor, std::string at, std::string action) {
    if (!step) return;
    step->actor = actor;
    step->at = std::move(at);
    step->action = std::move(action);
  };
  const auto sig = static_cast<signal_kind>(m.choice);
  switch (m.kind) {
    case move_kind::exec:
      exec(n, m.choice, step);
      break;
    case move_kind::interrupt: {
      const instruction& i = prog_.code[n.pc];
      describe("kernel", describe_location(i),
               std::string("interrupt/exception from user mode; ") + signal_words(sig));
      if (log)
        log->push_back(user_irq_ ? "entry notes rseq.event.user_irq"
                                 : "entry does not note user_irq (enter_from_user_mode)");
      kernel_.exit_to_user_mode(n, i.address(), user_irq_, sig, log);
      break;
    }
    case move_kind::handler_crash:
      describe("kernel", "handler", "the signal handler faults: SIGSEGV, fatal");
      kernel_.exit_to_user_mode(n, handler_ip, user_irq_, signal_kind::fatal, log);
      break;
    case move_kind::sigreturn: {
      const instruction& i = prog_.code[n.pc];
      describe("kernel", describe_location(i),
               std::string("handler returns: rt_sigreturn restores the context; ") +
                   signal_words(sig));
      if (log) log->push_back("syscall entry: user_irq not set");
      n.where = mode::user;
      kernel_.exit_to_user_mode(n, i.address(), false, sig, log);
      break;
    }
    case move_kind::other_wait:
      describe("other", "", "lock busy: cmpxchg tid -> tid|FUTEX_WAITERS, FUTEX_WAIT");
      n.lock_word |= futex_waiters;
      n.monitor = false;  // a store by another observer clears the exclusive monitor
      n.other = other_phase::waiting;
      if (log) log->push_back("lock word -> " + hex(n.lock_word));
      break;
    case move_kind::other_acquire:
      describe("other", "", "lock word is 0: cmpxchg 0 -> own tid (acquired)");
      n.lock_word = other_tid | (s.other == other_phase::waiting ? futex_waiters : 0);
      n.monitor = false;
      n.other = other_phase::owner;
      if (log) log->push_back("lock word -> " + hex(n.lock_word));
      break;
    case move_kind::other_guard:
      describe("other", "", "libc munmap: the unmap guard scans the threads' pending slots");
      if (n.pending) {
        n.pending = false;
        if (log) log->push_back("unlocker's list_op_pending = &node, inside the range: CAS &node -> 0");
      } else if (log) {
        log->push_back("unlocker's list_op_pending = 0: nothing to clear");
      }
      n.other = other_phase::guarded;
      break;
    case move_kind::other_remap:
      describe("other", "",
               opts_.remapping == remap::raw
                   ? "syscall(SYS_mmap, MAP_FIXED): unrelated file over the lock page (raw, unguarded)"
                   : guard_ ? "mmap(MAP_FIXED) completes: unrelated file over the lock page"
                            : "libc mmap(MAP_FIXED): unrelated file over the lock page (no guard)");
      n.mapped = page::file;
      n.other = other_phase::remapped;
      if (log) log->push_back("the word at the lock's address is now the file's: " + hex(n.file_word));
      break;
  }
  if (step) step->after = summary(n);
  return n;
}

bool transition_system::violates(const state& s, property p) noexcept {
  switch (p) {
    case property::no_foreign_write: return s.foreign_write;
    case property::no_lost_lock: return s.lost_lock;
    case property::pending_cleared:
      // Handed off (dead, or in a handler that may never come back) with a
      // pointer to memory that is no longer the lock. Only a released lock
      // can have been remapped (the other thread takes it first), so this is
      // "released, handed off, pending not cleared, memory gone".
      return (s.where == mode::handler || s.where == mode::dead) && s.pending && s.mapped == page::file;
    case property::no_lost_wakeup:
      return false;  // decided in the wake-up world (liveness.hpp)
  }
  return false;
}

std::string transition_system::summary(const state& s) {
  std::string out = s.mapped == page::lock ? "page=lock word=" + hex(s.lock_word)
                                           : "page=FILE word=" + hex(s.file_word);
  out += s.pending ? " pending=&node" : " pending=0";
  out += s.linked ? " list=[node]" : " list=[]";
  switch (s.where) {
    case mode::user: break;
    case mode::handler: out += " unlocker=in-handler"; break;
    case mode::dead: out += " unlocker=DEAD"; break;
  }
  static constexpr const char* phases[] = {"idle", "waiting", "owner", "guarded", "remapped"};
  out += " other=";
  out += phases[static_cast<unsigned>(s.other)];
  return out;
}

}  // namespace rfutex::model
