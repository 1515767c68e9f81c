// SPDX-License-Identifier: MIT
// The per-architecture part of the fix: what the entry code records when an
// interrupt or exception comes in from user mode, and the hook that decides
// from the saved registers whether the interrupted try-unlock has released
// the lock (arch_futex_robust_unlock_get_pop()).
#pragma once

#include <cstdint>

#include "options.hpp"
#include "programs.hpp"

namespace rfutex::model {

// The part of pt_regs the hooks read. The pending slot's address (x86 %dx,
// arm64 x2) is a constant of the model, so only "non-NULL or NULL" is decided.
struct saved_regs {
  std::uint64_t ip = 0;
  bool zf = false;       // x86 EFLAGS.ZF after lock cmpxchg
  std::uint32_t w3 = 0;  // arm64 stlxr status register
};

// Linux 7.2: x86 enters through irqentry_enter_from_user_mode(), which calls
// rseq_note_user_irq_entry(); arm64 calls enter_from_user_mode() instead, so
// user_irq stays false and futex_fixup_robust_unlock() returns at once.
constexpr bool entry_notes_user_irq_in_7_2(arch a) noexcept { return a != arch::arm64; }

// True when the hook would return the pending-op pointer (clear it) for an
// interrupt at `r` inside range `cs`.
//   x86 correct: ZF set, i.e. the cmpxchg succeeded (regs->flags & ZF ? dx : NULL).
//   arm64 correct: at cs_success, or at cs_start with w3 == 0 (the stlxr
//     succeeded and cbnz has not yet run).
//   naive: at cs_success only.
//   any_in_range: always (wrong: also "clears" after a failed cmpxchg).
// Contract: the caller has checked that r.ip lies in [cs.start, cs.start + cs.len).
bool unlock_succeeded(arch a, decider d, const saved_regs& r, const cs_range& cs) noexcept;

// One line saying what the hook looked at, for traces ("ZF=1", "w3=0").
const char* decided_from(arch a, decider d) noexcept;

}  // namespace rfutex::model
