// SPDX-License-Identifier: MIT
// This process's memory map: /proc/self/maps, and the memory calls made as
// raw syscalls (never through libc, so an interposed libc function — the
// unmap guard's own munmap — is not entered again).
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>

namespace rfutex::sys {

// Length of the mapping that starts exactly at `address`, or 0 when none
// does. Allocates nothing beyond stdio's buffer (safe inside an interposed
// munmap called by malloc).
std::size_t mapping_length_at(std::uintptr_t address) noexcept;

// mmap / munmap / mremap as raw syscalls: results and errno as libc's.
void* raw_mmap(void* address, std::size_t length, int prot, int flags, int fd, off_t offset) noexcept;
int raw_munmap(void* address, std::size_t length) noexcept;
void* raw_mremap(void* old_address, std::size_t old_length, std::size_t new_length, int flags,
                 void* new_address) noexcept;

}  // namespace rfutex::sys
