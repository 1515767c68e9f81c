// SPDX-License-Identifier: MIT
// The unlock programs, as lists of instructions with their effects on the
// modelled registers, flags and memory, one instruction per step. Also the
// vDSO image of each architecture: where its try-unlock critical sections
// are, which is what the kernel records per mm and range-checks.
//
// Addresses are illustrative (offsets inside libc, the vDSO, librfutex); what
// matters, and what the kernel's range check sees, is which instructions lie
// inside [cs_start, cs_end) of a vDSO function.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "options.hpp"

namespace rfutex::model {

enum class op : std::uint8_t {
  set_pending,          // list_op_pending = &node
  unlink,               // remove node from the robust list (one step: only
                        // this thread's own exit processing reads the list)
  nop,                  // no modelled effect (call, ret, xor ...)
  load_tid,             // acc = TID
  cmpxchg,              // x86 lock cmpxchg %ecx(=0),(lock):
                        //   word == acc ? (word = 0, ZF = 1) : (acc = word, ZF = 0)
  exchange,             // xchg / swpl: acc = word, word = 0
  jump,                 // pc = target
  jump_if_nz,           // jnz / b.ne: if !ZF, pc = target
  jump_if_acc_not_tid,  // caller: cmp tid, acc; jne target
  jump_if_no_waiters,   // test $FUTEX_WAITERS, acc; jz target
  clear_pending,        // list_op_pending = 0
  ldxr,                 // acc = word, exclusive monitor armed
  cmp_tid,              // Z = (acc == TID)
  stlxr,                // monitor armed ? (word = 0, w3 = 0) : w3 = 1; disarms.
                        //   May also fail spuriously (architecturally allowed).
  cbnz_w3,              // if w3 != 0, pc = target
  sys_futex_wake,       // futex(FUTEX_WAKE): a syscall, no modelled memory effect
  sys_robust_unlock,    // futex(FUTEX_WAKE | FUTEX_ROBUST_UNLOCK [| LIST32]):
                        //   the kernel stores 0 to the word, clears the pending slot
  sys_wake_op,          // futex(FUTEX_WAKE_OP, SET 0): the kernel stores 0 to the
                        //   word and wakes every sleeper; pending left alone
  done,                 // the unlock returned to its caller (no further steps)
};

// Where an instruction lives; the kernel's range check sees only addresses.
enum class module : std::uint8_t { libc, vdso, librfutex };

struct instruction {
  module in = module::libc;
  std::uint32_t offset = 0;   // inside `in`
  std::string_view label;     // "cs_start", "cs_success", "cs_end", "slow", ... or ""
  std::string_view text;      // the assembly, for traces
  op code = op::nop;
  std::uint8_t target = 0;    // program index, for jumps

  std::uint64_t address() const noexcept;
};

// A try-unlock critical section as the kernel records it per mm
// (futex_set_vdso_cs_range) plus the success label an arch hook may use.
struct cs_range {
  std::uint64_t start = 0;    // cs_start
  std::uint64_t len = 0;      // cs_end - cs_start (0: slot unused)
  std::uint64_t success = 0;  // cs_success
  bool pop_size32 = false;    // the function clears a 32-bit pending slot
};

struct program {
  std::string name;                    // e.g. "vdso/x86_64"
  std::vector<instruction> code;       // the thread starts at index 0
  unsigned pending_slot_bytes = 8;     // width of list_op_pending
  std::vector<cs_range> vdso_ranges;   // what the kernel recorded for this mm

  std::uint8_t size() const noexcept { return static_cast<std::uint8_t>(code.size()); }
};

// The program `p` runs on `a`, with the vDSO ranges of `a`'s image.
// Contract: every jump target is a valid index; the last reachable
// instruction of every path is op::done.
program make_program(protocol p, arch a);

// "vdso+0x08 <cs_start>": where instruction `i` sits, for traces.
std::string describe_location(const instruction& i);

}  // namespace rfutex::model
