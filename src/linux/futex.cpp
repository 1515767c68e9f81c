// SPDX-License-Identifier: MIT
#include "futex.hpp"

#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <climits>

namespace rfutex::sys {

namespace {

// i386 needs futex_time64 for 64-bit timespecs; x86_64's futex is already so.
#if defined(SYS_futex_time64) && !defined(__x86_64__)
constexpr long futex_syscall = SYS_futex_time64;
#else
constexpr long futex_syscall = SYS_futex;
#endif

int clock_flag(futex_clock clock) {
  return clock == futex_clock::realtime ? futex_flag_clock_realtime : 0;
}

}  // namespace

long futex(std::uint32_t* uaddr, int op, std::uint32_t val, const void* timeout_or_val2,
           void* uaddr2, std::uint32_t val3) noexcept {
  // Integers widened to long: syscall() is variadic (the kernel's futex
  // truncates them again, but nothing is left to the caller's upper halves).
  const long r = ::syscall(futex_syscall, uaddr, long{op}, static_cast<unsigned long>(val), timeout_or_val2,
                           uaddr2, static_cast<unsigned long>(val3));
  return r == -1 ? -errno : r;
}

long futex_wait(std::uint32_t* word, std::uint32_t expected, const kernel_timespec* deadline,
                futex_clock clock, std::uint32_t bitset) noexcept {
  // WAIT_BITSET takes an absolute deadline, so a retry after EINTR does not
  // stretch the timeout, and a monotonic one ignores wall-clock changes.
  return futex(word, futex_op_wait_bitset | clock_flag(clock), expected, deadline, nullptr,
               bitset);
}

long futex_wait_cancellable(std::uint32_t* word, std::uint32_t expected,
                            const kernel_timespec* deadline, futex_clock clock) {
  // As the C library makes its own blocking calls cancellable: asynchronous
  // cancellation for the duration of the call only. Switching to it acts on
  // a cancel already pending; one arriving during the sleep interrupts the
  // system call and unwinds from its signal handler, so nothing between the
  // two switches may need undoing. The caller's own type (deferred, or
  // asynchronous already) is restored on return.
  int previous = PTHREAD_CANCEL_DEFERRED;
  ::pthread_setcanceltype(PTHREAD_CANCEL_ASYNCHRONOUS, &previous);
  const long r = ::syscall(futex_syscall, word, long{futex_op_wait_bitset | clock_flag(clock)},
                           static_cast<unsigned long>(expected), deadline, nullptr,
                           static_cast<unsigned long>(futex_bitset_match_any));
  const int error = errno;  // before pthread_setcanceltype may change it
  ::pthread_setcanceltype(previous, nullptr);
  return r == -1 ? -error : r;
}

long futex_wake(std::uint32_t* word, int count, std::uint32_t bitset) noexcept {
  return futex(word, futex_op_wake_bitset, static_cast<std::uint32_t>(count), nullptr, nullptr,
               bitset);
}

long futex_store_zero_and_wake(std::uint32_t* word, int count) noexcept {
  // FUTEX_OP(FUTEX_OP_SET, 0, FUTEX_OP_CMP_EQ, 0) encodes as 0; nr_wake2 = 0:
  // the comparison's second wake-up never wakes anyone.
  constexpr std::uint32_t set_zero = 0;
  return futex(word, futex_op_wake_op, static_cast<std::uint32_t>(count),
               /*nr_wake2=*/nullptr, word, set_zero);
}

long futex_lock_pi(std::uint32_t* word, const kernel_timespec* deadline,
                   futex_clock clock) noexcept {
  // LOCK_PI2 measures its deadline on CLOCK_MONOTONIC unless told REALTIME;
  // plain LOCK_PI is always CLOCK_REALTIME.
  return futex(word, futex_op_lock_pi2 | clock_flag(clock), 0, deadline, nullptr, 0);
}

long futex_trylock_pi(std::uint32_t* word) noexcept {
  return futex(word, futex_op_trylock_pi, 0, nullptr, nullptr, 0);
}

long futex_unlock_pi(std::uint32_t* word) noexcept {
  return futex(word, futex_op_unlock_pi, 0, nullptr, nullptr, 0);
}

long futex_robust_unlock(std::uint32_t* word, int op, int count, void* pending, bool list32,
                         std::uint32_t bitset) noexcept {
  const int flags = futex_flag_robust_unlock | (list32 ? futex_flag_robust_list32 : 0);
  return futex(word, op | flags, static_cast<std::uint32_t>(count), nullptr, pending, bitset);
}

}  // namespace rfutex::sys
