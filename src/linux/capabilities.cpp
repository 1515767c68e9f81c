// SPDX-License-Identifier: MIT
#include "capabilities.hpp"

#include <sys/utsname.h>

#include <cerrno>
#include <cstdint>

#include "futex.hpp"

namespace rfutex::sys {

namespace {

// Asks the kernel to robust-unlock a private word of ours: Linux >= 7.2 stores
// 0 to it and clears the slot; older kernels reject the flag with ENOSYS.
int probe_robust_unlock_flag() noexcept {
  std::uint32_t word = 1;
  std::uintptr_t slot = reinterpret_cast<std::uintptr_t>(&word);
  const long r = futex_robust_unlock(&word, futex_op_wake, 1, &slot,
                                     futex_flag_native_list != 0);
  if (r < 0) return static_cast<int>(-r);
  return word == 0 && slot == 0 ? 0 : EPROTO;
}

kernel_probe run_probe() noexcept {
  kernel_probe p;
  struct utsname u {};
  if (uname(&u) == 0) {
    p.release = u.release;
    p.machine = u.machine;
  }
  p.vdso = vdso();
  p.try_unlock64 = vdso_symbol(vdso_try_unlock64_name);
  p.try_unlock32 = vdso_symbol(vdso_try_unlock32_name);
  p.try_unlock = reinterpret_cast<vdso_try_unlock_fn>(
      const_cast<void*>(sizeof(void*) == 8 ? p.try_unlock64 : p.try_unlock32));
  p.robust_unlock_errno = probe_robust_unlock_flag();
  return p;
}

}  // namespace

const kernel_probe& probe() noexcept {
  static const kernel_probe p = run_probe();
  return p;
}

}  // namespace rfutex::sys
