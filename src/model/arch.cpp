// SPDX-License-Identifier: MIT
// The per-architecture decision functions of arch.hpp.
#include "arch.hpp"

namespace rfutex::model {

bool unlock_succeeded(arch a, decider d, const saved_regs& r, const cs_range& cs) noexcept {
  switch (d) {
    case decider::naive:
      return r.ip == cs.success;
    case decider::any_in_range:
      return true;
    case decider::correct:
      if (a == arch::arm64) return r.ip == cs.success || (r.ip == cs.start && r.w3 == 0);
      // x86: ZF survives from the cmpxchg to cs_success (jnz does not touch
      // flags), so it alone says whether the lock was released.
      return r.zf;
  }
  return false;
}

const char* decided_from(arch a, decider d) noexcept {
  switch (d) {
    case decider::naive: return "naive hook: success iff ip == cs_success";
    case decider::any_in_range: return "broken hook: success for any ip in the range";
    case decider::correct:
      return a == arch::arm64 ? "arm64 hook: ip == cs_success || (ip == cs_start && w3 == 0)"
                              : "x86 hook: regs->flags & ZF ? regs->dx : NULL";
  }
  return "";
}

}  // namespace rfutex::model
