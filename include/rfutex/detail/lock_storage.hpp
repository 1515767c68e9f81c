// SPDX-License-Identifier: MIT
// The bytes of an rfutex lock, identical in every process that maps them —
// 64-bit and 32-bit, glibc and musl, C and C++. All zero is an unlocked,
// consistent lock. docs/layout.md describes it in full.
//
//   offset size  field
//   +0     4     word   futex word: owner TID (bits 0-29) | FUTEX_OWNER_DIED
//                       (bit 30) | FUTEX_WAITERS (bit 31); 0 = free
//   +4     4     state  0 consistent, 1 inconsistent (owner died, not yet
//                       repaired), 2 not recoverable, state_destroyed after
//                       destruction; any other value is not an rfutex lock
//   +8     32    node   the owner's robust-list node. Its position depends on
//                       the owner thread's robust-list head (futex_offset),
//                       so each libc's position has room here; only the
//                       owner writes it.
#pragma once

#include <cstddef>
#include <cstdint>

namespace rfutex::detail {

struct alignas(8) lock_storage {
  std::uint32_t word = 0;
  std::uint32_t state = 0;
  unsigned char node[32] = {};
};

inline constexpr std::uint32_t state_consistent = 0;
inline constexpr std::uint32_t state_inconsistent = 1;
inline constexpr std::uint32_t state_not_recoverable = 2;

// The kernel's PID_MAX_LIMIT: no TID, in any PID namespace, reaches it.
inline constexpr std::uint32_t tid_limit = 1u << 22;

// The poison destruction leaves in a free lock: a state no live lock has and
// a word whose TID field names no thread (above tid_limit), so that every
// later use fails with EINVAL instead of taking the lock.
inline constexpr std::uint32_t state_destroyed = 0xde57'0ed0u;
inline constexpr std::uint32_t word_destroyed = 0x3fff'ffffu;

// How the word is shared with the kernel: plain futex waits and wakes, or
// priority inheritance (FUTEX_LOCK_PI / FUTEX_UNLOCK_PI; the kernel queues
// waiters by priority and boosts the owner). Fixed for a lock's lifetime.
enum class lock_kind : unsigned char { plain, priority_inheritance };

static_assert(sizeof(lock_storage) == 40 && alignof(lock_storage) == 8);
static_assert(offsetof(lock_storage, word) == 0 && offsetof(lock_storage, state) == 4 &&
              offsetof(lock_storage, node) == 8);

}  // namespace rfutex::detail
