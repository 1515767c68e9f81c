// SPDX-License-Identifier: MIT
// mremap, guarded: scrubs exactly the memory that goes away, so that a lock
// page that stays mapped keeps its pending pointers (the kernel still needs
// them if their thread dies before it wakes the lock's sleepers).
//   - shrink in place (any call whose new length is not larger, without
//     MREMAP_FIXED / MREMAP_DONTUNMAP): the removed tail;
//   - grow in place: nothing;
//   - a move (MREMAP_MAYMOVE when growing in place is impossible,
//     MREMAP_FIXED, MREMAP_DONTUNMAP): the whole old range;
//   - MREMAP_FIXED: also the target range (whatever was mapped there is
//     unmapped).
// A growth with MREMAP_MAYMOVE is first tried in place (what the kernel
// tries first too); only when that fails is the old range scrubbed and the
// call made as asked.
#pragma once

#include <cstddef>

namespace rfutex::guard {

// The real mremap (libc's in the library, the raw syscall in the preload).
using mremap_call = void* (*)(void* old_address, std::size_t old_length, std::size_t new_length,
                              int flags, void* new_address) noexcept;

// Returns what `call` returns (MAP_FAILED and errno on failure).
void* guarded_mremap(mremap_call call, void* old_address, std::size_t old_length,
                     std::size_t new_length, int flags, void* new_address) noexcept;

}  // namespace rfutex::guard
