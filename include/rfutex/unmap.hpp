// SPDX-License-Identifier: MIT
// The unmap guard: unmapping and destroying memory that held robust locks,
// without letting the kernel write into whatever is mapped there next.
//
// On kernels without the 7.2 fix, a thread that dies right after releasing a
// robust lock leaves its list_op_pending pointing at the lock. If the memory
// was unmapped and something else mapped there meanwhile, the kernel writes
// FUTEX_OWNER_DIED into the new contents. The guard clears such stale
// pointers before the memory goes: for every thread of this process that
// rfutex knows (every thread that used an rfutex lock; with the interposing
// library librfutex-guard.so, every thread), a list_op_pending that points
// at a futex inside the range is compare-and-swapped from that exact value
// to 0 — what the kernel's own fix-up does.
//
// Safe because a correct program unmaps a lock only when no thread still
// operates on it: a pointer into the range can only be such a leftover. It
// sees the leftover because the unlocker stored list_op_pending before its
// release of the lock word, and whoever decided to unmap learned that the lock
// was free through a chain starting at that release.
//
// Every function here guards, then does what its libc namesake does.
// Errors: std::system_error with the errno of the underlying call.
#pragma once

#include <sys/types.h>

#include <cstddef>

namespace rfutex {

// Clears every stale list_op_pending of this process's known threads that
// points at a futex word inside [address, address + length). Returns how many
// it cleared. Holds only the guard's registry lock (for nanoseconds per thread),
// and writes nothing but list_op_pending slots that point into the range.
std::size_t scrub_pending(const void* address, std::size_t length) noexcept;

// munmap(address, length), guarded.
void unmap(void* address, std::size_t length);

// mremap(...), guarded: scrubs what goes away, and only that — the removed
// tail of an in-place shrink, nothing for an in-place growth, the whole old
// range when the mapping moves, and with MREMAP_FIXED also the range it
// replaces. (A growth with MREMAP_MAYMOVE is tried in place first.) Returns
// the new address.
void* remap(void* old_address, std::size_t old_length, std::size_t new_length, int flags,
            void* new_address = nullptr);

// mmap(address, length, ..., flags | MAP_FIXED, ...), guarded: whatever was
// mapped at the range is replaced, so it is scrubbed first.
void* map_fixed(void* address, std::size_t length, int prot, int flags, int fd, off_t offset);

// shmdt(address), guarded: the whole attached segment is scrubbed.
void detach_shm(const void* address);

// How many threads the guard currently knows in this process. In a fork
// child the thread that forked is known from the start.
std::size_t guarded_thread_count() noexcept;

}  // namespace rfutex
