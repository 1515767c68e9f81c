// SPDX-License-Identifier: MIT
// Symbol lookup in the vDSO the kernel mapped into this process, by reading
// the ELF image at getauxval(AT_SYSINFO_EHDR) — no dlopen, so it works in
// static binaries.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace rfutex::sys {

struct vdso_image {
  const void* base = nullptr;  // start of the mapped image; nullptr: no vDSO
  std::size_t text_size = 0;   // bytes of the executable PT_LOAD segment
};

// The image's location (computed once).
const vdso_image& vdso() noexcept;

// Address of the exported function `name`, or nullptr.
const void* vdso_symbol(std::string_view name) noexcept;

// The robust try-unlock of Linux 7.2 (x86):
//   u32 fn(u32* lock, u32 tid, uNN* pending)
// returns the value it found in *lock; equal to tid means it stored 0 and
// cleared *pending, inside a range the kernel fixes up if we are stopped
// between the two. NN is this process's pointer width: the 64-bit vDSO's
// list64 function, the 32-bit vDSO's list32 function.
using vdso_try_unlock_fn = std::uint32_t (*)(std::uint32_t* lock, std::uint32_t tid,
                                             std::uintptr_t* pending);

inline constexpr std::string_view vdso_try_unlock64_name =
    "__vdso_futex_robust_list64_try_unlock";
inline constexpr std::string_view vdso_try_unlock32_name =
    "__vdso_futex_robust_list32_try_unlock";
inline constexpr std::string_view vdso_try_unlock_native_name =
    sizeof(void*) == 8 ? vdso_try_unlock64_name : vdso_try_unlock32_name;

}  // namespace rfutex::sys
