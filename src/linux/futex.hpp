// SPDX-License-Identifier: MIT
// The futex system call, as the kernel defines it — nothing more.
//
// Every function returns the syscall's result, or -errno on failure; none
// throws (but futex_wait_cancellable may be cancelled) and none retries (EINTR and EAGAIN are the caller's to handle).
// All operations are process-shared (no FUTEX_PRIVATE_FLAG): rfutex locks
// live in memory that other processes may map.
#pragma once

#include <cstdint>

namespace rfutex::sys {

// Bits of a robust futex word (include/uapi/linux/futex.h).
inline constexpr std::uint32_t futex_waiters = 0x80000000u;
inline constexpr std::uint32_t futex_owner_died = 0x40000000u;
inline constexpr std::uint32_t futex_tid_mask = 0x3fffffffu;

// Operations and flags. FUTEX_ROBUST_UNLOCK and FUTEX_ROBUST_LIST32 are new
// in Linux 7.2; older kernels answer ENOSYS for any op that carries them.
inline constexpr int futex_op_wait = 0;
inline constexpr int futex_op_wake = 1;
inline constexpr int futex_op_wake_op = 5;
inline constexpr int futex_op_lock_pi = 6;
inline constexpr int futex_op_unlock_pi = 7;
inline constexpr int futex_op_trylock_pi = 8;
inline constexpr int futex_op_wait_bitset = 9;
inline constexpr int futex_op_wake_bitset = 10;
inline constexpr int futex_op_lock_pi2 = 13;
inline constexpr int futex_flag_private = 128;
inline constexpr int futex_flag_clock_realtime = 256;
inline constexpr int futex_flag_robust_unlock = 512;
inline constexpr int futex_flag_robust_list32 = 1024;
inline constexpr std::uint32_t futex_bitset_match_any = 0xffffffffu;

// The flag that says "the pending-op slot is as wide as this process's
// pointers": 64-bit processes use the default (64-bit slot); 32-bit processes
// must say LIST32, or a 64-bit kernel would clear 8 bytes.
inline constexpr int futex_flag_native_list =
    sizeof(void*) == 4 ? futex_flag_robust_list32 : 0;

// struct __kernel_timespec: 64-bit seconds on every ABI (the i386 build uses
// futex_time64, so no 2038 limit there either).
struct kernel_timespec {
  std::int64_t tv_sec;
  std::int64_t tv_nsec;
};

enum class futex_clock { monotonic, realtime };

// Raw call: futex(uaddr, op, val, timeout_or_val2, uaddr2, val3).
long futex(std::uint32_t* uaddr, int op, std::uint32_t val, const void* timeout_or_val2,
           void* uaddr2, std::uint32_t val3) noexcept;

// Sleeps while *word == expected, until woken or until the absolute deadline
// on `clock` (nullptr: no deadline). 0, -EAGAIN (value changed), -EINTR,
// -ETIMEDOUT.
long futex_wait(std::uint32_t* word, std::uint32_t expected, const kernel_timespec* deadline,
                futex_clock clock = futex_clock::monotonic,
                std::uint32_t bitset = futex_bitset_match_any) noexcept;

// futex_wait, as a POSIX cancellation point: a pthread_cancel of the caller
// (pending, or arriving while it sleeps) acts here, unwinding the caller's
// stack (abi::__forced_unwind in C++) unless cancellation is disabled. Not
// noexcept for that reason; every frame above must let the unwind through.
long futex_wait_cancellable(std::uint32_t* word, std::uint32_t expected,
                            const kernel_timespec* deadline,
                            futex_clock clock = futex_clock::monotonic);

// Wakes up to `count` waiters whose bitset intersects `bitset`; returns how many.
long futex_wake(std::uint32_t* word, int count,
                std::uint32_t bitset = futex_bitset_match_any) noexcept;

// FUTEX_WAKE_OP with *word as its own second futex and the operation
// "set 0": the kernel stores 0 to *word and then wakes up to `count` waiters
// of it, in one call under the futex's hash-bucket lock. Returns how many it
// woke; on failure (-errno) *word is unchanged.
long futex_store_zero_and_wake(std::uint32_t* word, int count) noexcept;

// PI lock/unlock. lock_pi2 honours `clock` for its absolute deadline.
long futex_lock_pi(std::uint32_t* word, const kernel_timespec* deadline,
                   futex_clock clock = futex_clock::monotonic) noexcept;
long futex_trylock_pi(std::uint32_t* word) noexcept;
long futex_unlock_pi(std::uint32_t* word) noexcept;

// Linux >= 7.2: the kernel stores 0 to *word (release), clears the pending-op
// slot `pending` (as wide as `list32` says), then wakes / PI-unlocks. `op` is
// futex_op_wake, futex_op_wake_bitset or futex_op_unlock_pi; any other op
// answers -ENOSYS, as does every op on an older kernel.
long futex_robust_unlock(std::uint32_t* word, int op, int count, void* pending, bool list32,
                         std::uint32_t bitset = futex_bitset_match_any) noexcept;

}  // namespace rfutex::sys
