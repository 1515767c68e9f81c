// SPDX-License-Identifier: MIT
// The kernel side, as the model runs it: the exit-to-user-mode loop with the
// fix-up before signal delivery (kernel/entry/common.c,
// include/linux/futex.h), the FUTEX_ROBUST_UNLOCK syscall
// (kernel/futex/waitwake.c), and a dying task's robust-list processing with
// handle_futex_death() semantics (kernel/futex/core.c). Each function
// mutates a `state` and, when `log` is not null, says what it did.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "arch.hpp"
#include "options.hpp"
#include "programs.hpp"
#include "world.hpp"

namespace rfutex::model {

using effect_log = std::vector<std::string>;

// The signal pending when the exit-to-user-mode loop runs.
enum class signal_kind : std::uint8_t {
  none,     // plain return to user mode
  fatal,    // SIGKILL (or any signal whose default action kills)
  handler,  // a signal with a handler: delivered, the handler runs
};
inline constexpr std::uint8_t signal_kinds = 3;

// The ip a crashing signal handler faults at (outside every unlock range).
inline constexpr std::uint64_t handler_ip = 0x400000;

// handle_futex_death()'s pending-op wake for a non-PI word `uval` whose
// owner part is not the dying TID: whether the kernel wakes one waiter.
// owner_zero: only when the owner part is 0; no_waiters: also when it is
// owned without FUTEX_WAITERS (docs/model.md, "What the kernel does").
constexpr bool pending_op_wakes(pending_wake rule, std::uint32_t uval) noexcept {
  const bool unowned = (uval & futex_tid_mask) == 0;
  const bool no_waiters = (uval & futex_waiters) == 0;
  return rule == pending_wake::owner_zero ? unowned : unowned || no_waiters;
}

// handle_futex_death() for a word the dying thread owns: OWNER_DIED, the
// owner part cleared, FUTEX_WAITERS kept (a waiter is woken when it was set).
constexpr std::uint32_t owner_died_value(std::uint32_t uval) noexcept {
  return (uval & futex_waiters) | futex_owner_died;
}

class kernel {
 public:
  // Contract: `prog` outlives the kernel.
  kernel(const options& o, const program& prog);

  // __exit_to_user_mode_loop() with `sig` pending, for a task whose saved
  // ip is `ip`: futex_fixup_robust_unlock() then delivery. `user_irq`: the
  // task entered by an interrupt/exception that noted rseq's user_irq.
  // Leaves the task in user mode, in a handler, or dead.
  void exit_to_user_mode(state& s, std::uint64_t ip, bool user_irq, signal_kind sig,
                         effect_log* log) const;

  // futex(FUTEX_WAKE | FUTEX_ROBUST_UNLOCK, lock, ..., uaddr2 = pop): the
  // kernel stores 0 to the word, then clears the pending slot. No death can
  // come between the two stores: a task acts on signals only on its way out.
  void robust_unlock(state& s, effect_log* log) const;

  // futex(FUTEX_WAKE_OP, SET 0 on the lock word): futex_wake_op() stores 0
  // under the hash-bucket lock and wakes every sleeper; the pending slot is
  // the caller's to clear afterwards.
  void store_zero_and_wake(state& s, effect_log* log) const;

  // A fatal signal's do_exit(): exit_robust_list() (compat_ on i386), then
  // the bookkeeping of the no-foreign-write and no-lost-lock properties.
  void kill(state& s, effect_log* log) const;

  // futex_fixup_robust_unlock(regs); public for the tests.
  void fixup_robust_unlock(state& s, std::uint64_t ip, bool user_irq, effect_log* log) const;

 private:
  // handle_futex_death(uaddr = the lock's address, ...). Returns 0; the model
  // has no faulting addresses (the lock address is always mapped).
  int handle_futex_death(state& s, bool pending_op, effect_log* log) const;

  options opts_;
  const program* prog_;
};

}  // namespace rfutex::model
