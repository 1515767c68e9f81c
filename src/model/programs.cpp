// SPDX-License-Identifier: MIT
// The unlock programs of programs.hpp, written out per protocol and
// architecture, and the vDSO images that give the kernel its ranges.
#include "programs.hpp"

#include <cstdio>
#include <stdexcept>

namespace rfutex::model {
namespace {

// Illustrative load addresses; only "inside a recorded range or not" matters.
constexpr std::uint64_t base_of(module m) noexcept {
  switch (m) {
    case module::libc: return 0x7f0000100000;
    case module::librfutex: return 0x7f0000200000;
    case module::vdso: return 0x7fff00000000;
  }
  return 0;
}

constexpr std::string_view name_of(module m) noexcept {
  switch (m) {
    case module::libc: return "libc";
    case module::librfutex: return "librfutex";
    case module::vdso: return "vdso";
  }
  return "?";
}

// Emits instructions in order and resolves jump targets by label. On arm64
// (fixed 4-byte instructions) the callers' offsets are assigned in sequence;
// the vDSO's are always explicit, since the kernel's ranges depend on them.
class builder {
 public:
  explicit builder(arch a) : fixed_width_(a == arch::arm64) {}

  void add(module in, std::uint32_t offset, std::string_view label, std::string_view text, op code,
           std::string_view target = {}) {
    if (fixed_width_ && in != module::vdso) {
      offset = next_offset_;
      next_offset_ += 4;
    }
    code_.push_back(instruction{in, offset, label, text, code, 0});
    targets_.push_back(target);
  }

  std::vector<instruction> finish() {
    for (std::size_t i = 0; i < code_.size(); ++i) {
      if (targets_[i].empty()) continue;
      code_[i].target = index_of(targets_[i]);
    }
    return std::move(code_);
  }

 private:
  std::uint8_t index_of(std::string_view label) const {
    for (std::size_t i = 0; i < code_.size(); ++i)
      if (code_[i].label == label) return static_cast<std::uint8_t>(i);
    throw std::logic_error("model program: jump to unknown label");
  }

  bool fixed_width_;
  std::uint32_t next_offset_ = 0;
  std::vector<instruction> code_;
  std::vector<std::string_view> targets_;
};

// ---- vDSO try-unlock functions ------------------------------------------
//
// x86 (arch/x86/entry/vdso/common/vfutex.c): the compiler loads the TID into
// %eax and a zero into %ecx, then
//     lock cmpxchgl %ecx, (lock)
//   cs_start:   jnz cs_end
//   cs_success: mov %rcx, (pop)     (movl %ecx for the 32-bit slot)
//   cs_end:     ret
// arm64: no such function in 7.2; this is the LL/SC sequence a port would
// use, with the TID in w1, the lock in x0, the pending slot in x2.

struct cs_layout {
  std::uint32_t start, success, end;  // offsets from the function's entry
};
constexpr cs_layout x86_list64{0x08, 0x0a, 0x0d};  // movq %rcx,(%rdx): 3 bytes
constexpr cs_layout x86_list32{0x08, 0x0a, 0x0c};  // movl %ecx,(%edx): 2 bytes
constexpr cs_layout arm64_list64{0x10, 0x14, 0x18};

// Function entries inside each image.
constexpr std::uint32_t x86_64_list64_entry = 0x00;
constexpr std::uint32_t x86_64_list32_entry = 0x40;  // COMPAT: the emulators' variant
constexpr std::uint32_t i386_list32_entry = 0x00;
constexpr std::uint32_t arm64_list64_entry = 0x00;

cs_range range_at(std::uint32_t entry, cs_layout l, bool size32) {
  const std::uint64_t vdso = base_of(module::vdso);
  return cs_range{vdso + entry + l.start, l.end - l.start, vdso + entry + l.success, size32};
}

// What vdso_futex_robust_unlock_update_ips() records for a process of arch
// `a`: slot 0 the 64-bit function, slot 1 (COMPAT) the 32-bit one. A 32-bit
// image has no 64-bit symbol, so slot 0 is empty (start = vDSO base, len 0,
// never matches). arm64 (hypothetical port): one 64-bit slot.
std::vector<cs_range> vdso_ranges(arch a) {
  switch (a) {
    case arch::x86_64:
      return {range_at(x86_64_list64_entry, x86_list64, false),
              range_at(x86_64_list32_entry, x86_list32, true)};
    case arch::i386:
      return {cs_range{base_of(module::vdso), 0, 0, false},
              range_at(i386_list32_entry, x86_list32, true)};
    case arch::arm64:
      return {range_at(arm64_list64_entry, arm64_list64, false)};
  }
  return {};
}

void emit_x86_try_unlock(builder& b, arch a) {
  const bool i386 = a == arch::i386;
  const std::uint32_t e = i386 ? i386_list32_entry : x86_64_list64_entry;
  const cs_layout l = i386 ? x86_list32 : x86_list64;
  b.add(module::vdso, e + 0x00, "", i386 ? "mov 0x8(%esp),%eax      ; tid" : "mov %esi,%eax            ; tid",
        op::load_tid);
  b.add(module::vdso, e + 0x02, "", "xor %ecx,%ecx", op::nop);
  b.add(module::vdso, e + 0x04, "", i386 ? "lock cmpxchg %ecx,(%edi)" : "lock cmpxchg %ecx,(%rdi)",
        op::cmpxchg);
  b.add(module::vdso, e + l.start, "cs_start", "jnz cs_end", op::jump_if_nz, "cs_end");
  b.add(module::vdso, e + l.success, "cs_success",
        i386 ? "movl %ecx,(%edx)         ; *pop = 0" : "mov %rcx,(%rdx)          ; *pop = 0",
        op::clear_pending);
  b.add(module::vdso, e + l.end, "cs_end", "ret", op::nop);
}

// The arm64 LL/SC try-unlock at entry `e` of module `in`. Only in the vDSO
// do the labels name a kernel-known critical section.
void emit_arm64_ll_sc(builder& b, module in, std::uint32_t e, std::string_view fail_label) {
  b.add(in, e + 0x00, "retry", "ldxr w4, [x0]", op::ldxr);
  b.add(in, e + 0x04, "", "cmp w4, w1               ; tid?", op::cmp_tid);
  b.add(in, e + 0x08, "", in == module::vdso ? "b.ne cs_end" : "b.ne contended", op::jump_if_nz,
        fail_label);
  b.add(in, e + 0x0c, "", "stlxr w3, wzr, [x0]      ; release", op::stlxr);
  b.add(in, e + arm64_list64.start, in == module::vdso ? "cs_start" : "", "cbnz w3, retry", op::cbnz_w3,
        "retry");
  b.add(in, e + arm64_list64.success, in == module::vdso ? "cs_success" : "",
        "str xzr, [x2]            ; *pop = 0", op::clear_pending);
}

// ---- the callers' common parts --------------------------------------------

struct dialect {
  std::string_view set_pending, unlink, clear_pending, call_vdso, check_result, ret;
  std::string_view sys_robust_unlock, sys_wake, jmp_done, exchange, test_waiters;
  std::string_view load_tid, cas_release, jnz_contended, sys_wake_op;
};

dialect dialect_of(arch a) {
  switch (a) {
    case arch::x86_64:
      return {"mov %rax,%fs:op_pending  ; = &node",
              "DEQUEUE: *node->prev = node->next",
              "movq $0,%fs:op_pending",
              "call __vdso_futex_robust_list64_try_unlock",
              "cmp %esi,%eax; jne slow",
              "ret                      ; unlocked",
              "syscall futex(lock, WAKE|ROBUST_UNLOCK, 1, pop)",
              "syscall futex(lock, FUTEX_WAKE, 1)",
              "jmp done",
              "xchg %ecx,(%rdi)         ; release",
              "test $0x80000000,%ecx; jz clear",
              "mov %esi,%eax            ; tid",
              "lock cmpxchg %ecx,(%rdi) ; tid -> 0",
              "jnz contended",
              "syscall futex(lock, WAKE_OP, INT_MAX, 0, lock, SET 0)"};
    case arch::i386:
      return {"mov %eax,%gs:op_pending  ; = &node",
              "DEQUEUE: walk from head, unlink node",
              "movl $0,%gs:op_pending",
              "call __vdso_futex_robust_list32_try_unlock",
              "cmp %esi,%eax; jne slow",
              "ret                      ; unlocked",
              "int $0x80 futex(lock, WAKE|ROBUST_UNLOCK|LIST32, 1, pop)",
              "int $0x80 futex(lock, FUTEX_WAKE, 1)",
              "jmp done",
              "xchg %ecx,(%edi)         ; release",
              "test $0x80000000,%ecx; jz clear",
              "mov %esi,%eax            ; tid",
              "lock cmpxchg %ecx,(%edi) ; tid -> 0",
              "jnz contended",
              "int $0x80 futex(lock, WAKE_OP, INT_MAX, 0, lock, SET 0)"};
    case arch::arm64:
      return {"str x3, [x2]             ; op_pending = &node",
              "DEQUEUE: *node->prev = node->next",
              "str xzr, [x2]            ; op_pending = 0",
              "bl __vdso_futex_robust_list64_try_unlock",
              "cmp w0, w1; b.ne slow",
              "ret                      ; unlocked",
              "svc #0 futex(lock, WAKE|ROBUST_UNLOCK, 1, pop)",
              "svc #0 futex(lock, FUTEX_WAKE, 1)",
              "b done",
              "swpl wzr, w4, [x0]       ; release",
              "tbz w4, #31, clear",
              "mov w4, w1               ; tid",
              "casl w4, wzr, [x0]       ; tid -> 0",
              "cmp w4, w1; b.ne contended",
              "svc #0 futex(lock, WAKE_OP, INT_MAX, 0, lock, SET 0)"};
  }
  return {};
}

// glibc's __pthread_mutex_unlock_full, robust case: the sequence of
// DESIGN.md §1 (steps 1-4), with the contended wake between 3 and 4.
std::vector<instruction> glibc_program(arch a) {
  const dialect d = dialect_of(a);
  builder b(a);
  b.add(module::libc, 0x00, "", d.set_pending, op::set_pending);
  b.add(module::libc, 0x09, "", d.unlink, op::unlink);
  b.add(module::libc, 0x14, "", d.exchange, op::exchange);
  b.add(module::libc, 0x16, "", d.test_waiters, op::jump_if_no_waiters, "clear");
  b.add(module::libc, 0x1e, "", d.sys_wake, op::sys_futex_wake);
  b.add(module::libc, 0x20, "clear", d.clear_pending, op::clear_pending);
  b.add(module::libc, 0x2b, "done", d.ret, op::done);
  return b.finish();
}

// A libc of the 7.2 era: pending, unlink, the vDSO try-unlock; if it did not
// release (waiters queued), futex(FUTEX_WAKE | FUTEX_ROBUST_UNLOCK), which
// releases and clears the slot inside one syscall.
std::vector<instruction> vdso_program(arch a) {
  const dialect d = dialect_of(a);
  builder b(a);
  b.add(module::libc, 0x00, "", d.set_pending, op::set_pending);
  b.add(module::libc, 0x09, "", d.unlink, op::unlink);
  b.add(module::libc, 0x14, "", d.call_vdso, op::nop);
  if (a == arch::arm64) {
    emit_arm64_ll_sc(b, module::vdso, arm64_list64_entry, "cs_end");
    b.add(module::vdso, arm64_list64_entry + arm64_list64.end, "cs_end", "mov w0, w4; ret", op::nop);
  } else {
    emit_x86_try_unlock(b, a);
  }
  b.add(module::libc, 0x19, "", d.check_result, op::jump_if_acc_not_tid, "slow");
  b.add(module::libc, 0x1d, "done", d.ret, op::done);
  b.add(module::libc, 0x30, "slow", d.sys_robust_unlock, op::sys_robust_unlock);
  b.add(module::libc, 0x32, "", d.jmp_done, op::jump, "done");
  return b.finish();
}

// rfutex's earlier guarded release (release_in_user_space then wake_one):
// pending, unlink, an unconditional atomic exchange to 0, clear pending, and
// only then FUTEX_WAKE if waiters were queued. Its safety is not in this
// list: the unmap guard in the other thread's libc remap closes the window
// between the exchange and the clear.
std::vector<instruction> guarded_v1_program(arch a) {
  const dialect d = dialect_of(a);
  builder b(a);
  const module m = module::librfutex;
  b.add(m, 0x00, "", d.set_pending, op::set_pending);
  b.add(m, 0x0a, "", d.unlink, op::unlink);
  b.add(m, 0x10, "", d.exchange, op::exchange);
  b.add(m, 0x12, "", d.clear_pending, op::clear_pending);
  b.add(m, 0x1d, "", d.test_waiters, op::jump_if_no_waiters, "done");
  b.add(m, 0x25, "", d.sys_wake, op::sys_futex_wake);
  b.add(m, 0x27, "done", d.ret, op::done);
  return b.finish();
}

// rfutex's user-space releases now (src/protocol/lock_protocol.cpp,
// finish_release): pending, unlink, CAS tid -> 0 (in no kernel range), clear
// pending; when the CAS fails (FUTEX_WAITERS set) the kernel releases:
// `guarded` by FUTEX_WAKE_OP (store 0, wake every sleeper; pending cleared
// after it returns), `hybrid` by FUTEX_WAKE | FUTEX_ROBUST_UNLOCK (store 0,
// clear pending). Safe for the same reason as guarded-v1: the unmap guard.
std::vector<instruction> cas_then_kernel_program(arch a, bool robust_unlock) {
  const dialect d = dialect_of(a);
  builder b(a);
  const module m = module::librfutex;
  b.add(m, 0x00, "", d.set_pending, op::set_pending);
  b.add(m, 0x0a, "", d.unlink, op::unlink);
  b.add(m, 0x10, "", d.load_tid, op::load_tid);
  b.add(m, 0x12, "", d.cas_release, op::cmpxchg);
  b.add(m, 0x16, "", d.jnz_contended, op::jump_if_nz, "contended");
  b.add(m, 0x18, "", d.clear_pending, op::clear_pending);
  b.add(m, 0x23, "done", d.ret, op::done);
  if (robust_unlock) {
    b.add(m, 0x30, "contended", d.sys_robust_unlock, op::sys_robust_unlock);
  } else {
    b.add(m, 0x30, "contended", d.sys_wake_op, op::sys_wake_op);
    b.add(m, 0x32, "", d.clear_pending, op::clear_pending);
  }
  b.add(m, 0x3d, "", d.jmp_done, op::jump, "done");
  return b.finish();
}

}  // namespace

std::uint64_t instruction::address() const noexcept { return base_of(in) + offset; }

std::string describe_location(const instruction& i) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.*s+0x%02x", static_cast<int>(name_of(i.in).size()),
                name_of(i.in).data(), i.offset);
  std::string s = buf;
  if (!i.label.empty()) {
    s += " <";
    s += i.label;
    s += '>';
  }
  return s;
}

program make_program(protocol p, arch a) {
  program prog;
  prog.name = std::string(to_string(p)) + "/" + std::string(to_string(a));
  switch (p) {
    case protocol::glibc: prog.code = glibc_program(a); break;
    case protocol::vdso: prog.code = vdso_program(a); break;
    case protocol::guarded: prog.code = cas_then_kernel_program(a, false); break;
    case protocol::guarded_v1: prog.code = guarded_v1_program(a); break;
    case protocol::hybrid: prog.code = cas_then_kernel_program(a, true); break;
  }
  prog.pending_slot_bytes = a == arch::i386 ? 4 : 8;
  prog.vdso_ranges = vdso_ranges(a);
  return prog;
}

}  // namespace rfutex::model
