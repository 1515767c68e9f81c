// SPDX-License-Identifier: MIT
// The kernel functions of kernel.hpp. Names and order follow the 7.2 source
// so that a reader can hold the two side by side.
#include "kernel.hpp"

#include <cstdio>

#include "hex.hpp"

namespace rfutex::model {
namespace {

void say(effect_log* log, std::string line) {
  if (log) log->push_back(std::move(line));
}

const char* page_name(page p) { return p == page::lock ? "the lock page" : "the FILE page"; }

}  // namespace

kernel::kernel(const options& o, const program& prog) : opts_(o), prog_(&prog) {}

void kernel::fixup_robust_unlock(state& s, std::uint64_t ip, bool user_irq, effect_log* log) const {
  if (!opts_.fixup) {
    say(log, "no futex_fixup_robust_unlock() in this kernel (--no-fixup)");
    return;
  }
  // "Avoid dereferencing current->mm if not returning from interrupt."
  if (!user_irq) {
    say(log, "futex_fixup_robust_unlock: rseq.event.user_irq not set -> return");
    return;
  }
  const auto& ranges = prog_->vdso_ranges;
  for (std::size_t r = 0; r < ranges.size(); ++r) {
    const cs_range& cs = ranges[r];
    if (!(ip >= cs.start && ip < cs.start + cs.len)) continue;
    const saved_regs regs{ip, s.zf, s.w3};
    const bool success = unlock_succeeded(opts_.machine, opts_.decide, regs, cs);
    const std::string seen = opts_.machine == arch::arm64 ? "w3=" + std::to_string(s.w3)
                                                           : "ZF=" + std::to_string(s.zf ? 1 : 0);
    std::string line = "futex_fixup_robust_unlock: ip in range " + std::to_string(r) + " (" +
                       decided_from(opts_.machine, opts_.decide) + "; " + seen + ")";
    if (success) {
      line += " -> clear the " + std::string(cs.pop_size32 ? "32" : "64") + "-bit pending slot";
      s.pending = false;
    } else {
      line += " -> NULL: slot left alone";
    }
    say(log, std::move(line));
    return;
  }
  say(log, "futex_fixup_robust_unlock: ip " + hex(ip) + " outside every unlock range");
}

void kernel::exit_to_user_mode(state& s, std::uint64_t ip, bool user_irq, signal_kind sig,
                               effect_log* log) const {
  // Whatever happens next, the task leaves the kernel (eret / iret or death):
  // on arm64 an exception return clears the local exclusive monitor.
  s.monitor = false;
  if (sig == signal_kind::none) {
    say(log, "no signal pending: return to user mode");
    s.where = mode::user;
    return;
  }
  say(log, sig == signal_kind::fatal ? "signal pending: SIGKILL" : "signal pending: one with a handler");
  // kernel/entry/common.c: the fix-up runs right before arch_do_signal_or_restart().
  fixup_robust_unlock(s, ip, user_irq, log);
  if (sig == signal_kind::fatal) {
    kill(s, log);
  } else {
    say(log, "deliver: the handler runs; the interrupted context is saved on its stack");
    s.where = mode::handler;
  }
}

void kernel::robust_unlock(state& s, effect_log* log) const {
  const std::uint32_t old = word_at_lock_address(s);
  word_at_lock_address(s) = 0;
  s.pending = false;
  say(log, "kernel: lock word " + hex(old) + " -> 0 (released), then clear the " +
               std::to_string(prog_->pending_slot_bytes * 8) + "-bit pending slot");
}

void kernel::store_zero_and_wake(state& s, effect_log* log) const {
  const std::uint32_t old = word_at_lock_address(s);
  word_at_lock_address(s) = 0;
  say(log, "kernel: lock word " + hex(old) + " -> 0 (released) and every waiter woken, in one step");
}

int kernel::handle_futex_death(state& s, bool pending_op, effect_log* log) const {
  const page where = s.mapped;
  std::uint32_t& word = word_at_lock_address(s);
  const std::uint32_t uval = word;
  const std::uint32_t owner = uval & futex_tid_mask;
  const std::string head = std::string("  handle_futex_death(") + (pending_op ? "pending op" : "list entry") +
                           "): " + page_name(where) + " holds " + hex(uval);
  if (owner != unlocker_tid) {
    // Not ours: at most the pending-op wake (a waiter woken by the unlock
    // this thread did not finish may otherwise sleep forever). No write.
    const bool wake = pending_op && pending_op_wakes(opts_.wake_rule, uval);
    say(log, head + ", owner " + std::to_string(owner) + " != " + std::to_string(unlocker_tid) +
                 (wake ? ": no write, wake one waiter" : ": no write"));
    return 0;
  }
  const std::uint32_t mval = owner_died_value(uval);
  word = mval;
  say(log, head + ", owner = dying TID: store " + hex(mval) + " (OWNER_DIED" +
               ((uval & futex_waiters) ? "|WAITERS), wake one waiter" : ")"));
  if (where == page::file) {
    s.foreign_write = true;
    say(log, "  FOREIGN WRITE: the kernel modified a page of an unrelated file");
  }
  return 0;
}

void kernel::kill(state& s, effect_log* log) const {
  const bool owned = (s.lock_word & futex_tid_mask) == unlocker_tid;
  const char* fn = opts_.machine == arch::i386 ? "compat_exit_robust_list" : "exit_robust_list";
  say(log, std::string("do_exit -> ") + fn + ": list " + (s.linked ? "holds &node" : "empty") +
               ", list_op_pending " + (s.pending ? "= &node" : "= 0"));
  // "A pending lock might already be on the list, so don't process it twice."
  if (s.linked && !s.pending) {
    if (handle_futex_death(s, false, log) != 0) return;
  }
  if (s.pending) handle_futex_death(s, true, log);
  if (owned && !((s.lock_word & futex_owner_died) && (s.lock_word & futex_tid_mask) == 0)) {
    s.lost_lock = true;
    say(log, "  LOST LOCK: died owning the lock; the word still says " + hex(s.lock_word) +
                 ", the next locker waits forever");
  }
  s.where = mode::dead;
}

}  // namespace rfutex::model
