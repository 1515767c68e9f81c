// SPDX-License-Identifier: MIT
// How rfutex releases a robust lock on this system, chosen once per process.
#pragma once

#include <string_view>

namespace rfutex {

enum class unlock_strategy : unsigned char {
  // Linux >= 7.2 on x86: the vDSO try-unlock, whose critical section the
  // kernel fixes up, and FUTEX_ROBUST_UNLOCK for the contended case. Nothing
  // can leave a stale list_op_pending behind.
  kernel,
  // FUTEX_ROBUST_UNLOCK without the vDSO function (7.2 on other arches): the
  // contended unlock is kernel-assisted, the uncontended one guarded.
  hybrid,
  // Older kernels: the classic sequence; the window it leaves is closed by
  // rfutex's unmap guard (see the README's Limitations).
  guarded,
};

std::string_view to_string(unlock_strategy s) noexcept;

// The strategy every rfutex lock of this process uses. Chosen on first call:
// the best the kernel offers, unless the environment variable RFUTEX_UNLOCK
// is set to `kernel`, `hybrid`, `guarded` or `auto`.
// Throws std::system_error: ENOSYS when RFUTEX_UNLOCK names a strategy this
// kernel cannot do, EINVAL when it names none at all. Every lock operation
// throws the same error, so a misconfigured process fails loudly.
unlock_strategy active_unlock_strategy();

// The best strategy the running kernel supports (ignores RFUTEX_UNLOCK).
unlock_strategy best_unlock_strategy() noexcept;

}  // namespace rfutex
