// SPDX-License-Identifier: MIT
// What the running kernel offers for robust unlock, probed once per process.
#pragma once

#include <string>

#include "vdso.hpp"

namespace rfutex::sys {

struct kernel_probe {
  std::string release;  // uname -r
  std::string machine;  // uname -m (the kernel's, not this process's)
  vdso_image vdso;
  const void* try_unlock64 = nullptr;  // __vdso_futex_robust_list64_try_unlock
  const void* try_unlock32 = nullptr;  // __vdso_futex_robust_list32_try_unlock
  vdso_try_unlock_fn try_unlock = nullptr;  // the one for this process's width
  // 0 when futex(FUTEX_WAKE | FUTEX_ROBUST_UNLOCK) released a word and cleared
  // a slot as Linux 7.2 does; otherwise the errno it answered (ENOSYS before
  // 7.2), or EPROTO if it answered success without doing both.
  int robust_unlock_errno = 0;

  bool robust_unlock_flag() const noexcept { return robust_unlock_errno == 0; }
};

// Probed on first call; never changes afterwards.
const kernel_probe& probe() noexcept;

}  // namespace rfutex::sys
