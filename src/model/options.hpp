// SPDX-License-Identifier: MIT
// What one run of the model checks: which unlock protocol, on which
// architecture's entry code, with which kernel behaviour. The defaults of
// `defaults_for()` are what Linux 7.2 really does on that architecture.
#pragma once

#include <optional>
#include <string_view>

namespace rfutex::model {

// The unlock program the thread runs (programs.hpp lists the instructions).
enum class protocol : unsigned char {
  glibc,       // set pending, unlink, atomic release, wake one, clear pending
               // (2006-today)
  vdso,        // 7.2's try-unlock: cmpxchg + kernel-known critical section
               // (on arm64: the LL/SC sequence a port would use); contended:
               // FUTEX_WAKE|FUTEX_ROBUST_UNLOCK, one waiter. rfutex's `kernel`
               // strategy, and a libc of the 7.2 era.
  guarded,     // rfutex on kernels without the fix: uncontended CAS tid -> 0;
               // contended FUTEX_WAKE_OP (the kernel stores 0 and wakes every
               // sleeper); pending cleared after either; the unmap guard in
               // every libc-level unmap/remap
  guarded_v1,  // rfutex's earlier guarded release: exchange to 0, clear
               // pending, then FUTEX_WAKE one (kept to show what it lost)
  hybrid,      // rfutex with FUTEX_ROBUST_UNLOCK but no vDSO function:
               // uncontended CAS + clear as `guarded` (guard active),
               // contended as `vdso`
};
inline constexpr protocol all_protocols[] = {protocol::glibc, protocol::vdso, protocol::guarded,
                                             protocol::guarded_v1, protocol::hybrid};

enum class arch : unsigned char {
  x86_64,  // 64-bit process, 8-byte list_op_pending, vDSO range 0
  i386,    // 32-bit (compat) process, 4-byte slot, the pop_size32 range
  arm64,   // LL/SC; 7.2's entry code does not note user_irq
};

// arch_futex_robust_unlock_get_pop(): decides from the registers whether the
// try-unlock at the interrupted instruction has already released the lock.
enum class decider : unsigned char {
  correct,  // x86: ZF ? dx : NULL. arm64: pc == cs_success, or
            // pc == cs_start and w3 == 0 (the stlxr succeeded)
  naive,    // pc == cs_success only: misses "released, branch not yet taken"
  // Library-only (not accepted by `rfutex model`): claims success for any ip
  // in the range, ignoring the flags. Deliberately wrong in the other
  // direction; the tests use it to show that the no-lost-lock check fires.
  any_in_range,
};

// How the other thread replaces the page under the lock.
enum class remap : unsigned char {
  libc,  // munmap/mmap(MAP_FIXED) through the libc; rfutex's guard sees it
  raw,   // syscall(SYS_mmap, ...): no user-space guard can see it
};

// handle_futex_death()'s rule for the pending op of a dying thread when the
// word is not its own (kernel/futex/core.c; docs/model.md, "What the kernel
// does"). Non-PI only: a PI pending op never gets this wake.
enum class pending_wake : unsigned char {
  owner_zero,  // wake one waiter only when the word's owner part is 0
               // (earlier kernels, e.g. 6.1.176; stable got the new rule in 6.1.183, 6.12.104)
  no_waiters,  // also when another thread owns it without FUTEX_WAITERS
               // (7.2; 6.1.183+ and 6.12.104+ by backport)
};

struct options {
  protocol proto = protocol::vdso;
  arch machine = arch::x86_64;
  bool fixup = true;                          // futex_fixup_robust_unlock() in the exit loop
  std::optional<bool> entry_notes_user_irq;   // empty: what 7.2's entry code does on `machine`
  decider decide = decider::correct;
  remap remapping = remap::libc;
  // The liveness world (docs/model.md, "No lost wake-up"):
  pending_wake wake_rule = pending_wake::no_waiters;  // the kernel's exit rule
  unsigned sleepers = 2;                               // 1 or 2 asleep at the start
};

// The real 7.2 behaviour of `a` for protocol `p`: fix-up on, the arch's own
// entry model, the correct decider, remaps through the libc.
options defaults_for(protocol p, arch a) noexcept;

// Whether interrupt/exception entry from user mode sets rseq.event.user_irq:
// the explicit option if given, else what 7.2 does on o.machine.
bool entry_notes_user_irq(const options& o) noexcept;

// The unmap guard runs only where rfutex releases in user space (guarded,
// guarded_v1, hybrid), and only for
// remaps that go through the libc.
constexpr bool guard_active(const options& o) noexcept {
  const bool rfutex_user_release =
      o.proto == protocol::guarded || o.proto == protocol::guarded_v1 || o.proto == protocol::hybrid;
  return rfutex_user_release && o.remapping == remap::libc;
}

std::string_view to_string(protocol p) noexcept;
std::string_view to_string(arch a) noexcept;
std::string_view to_string(decider d) noexcept;
std::string_view to_string(remap r) noexcept;
std::string_view to_string(pending_wake w) noexcept;

// Parsers for the command line; empty on an unknown name. parse_decider
// accepts only the names the command line offers (correct, naive).
std::optional<protocol> parse_protocol(std::string_view s) noexcept;
std::optional<arch> parse_arch(std::string_view s) noexcept;
std::optional<decider> parse_decider(std::string_view s) noexcept;
std::optional<remap> parse_remap(std::string_view s) noexcept;
std::optional<pending_wake> parse_pending_wake(std::string_view s) noexcept;

}  // namespace rfutex::model
