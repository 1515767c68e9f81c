// SPDX-License-Identifier: MIT
// The kernel's robust-list ABI (include/uapi/linux/futex.h) and its two
// syscalls. A thread has at most one registered head; on its death the
// kernel walks `list.next` from the head and, for every entry and for
// `list_op_pending`, looks at the 32-bit word at `entry + futex_offset`.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>

namespace rfutex::sys {

struct robust_list {
  robust_list* next;
};

struct robust_list_head {
  robust_list list;
  long futex_offset;
  robust_list* list_op_pending;
};

// Bit 0 of an entry (or of list_op_pending) marks a PI futex.
inline constexpr std::uintptr_t robust_entry_pi = 1;

// 0 or -errno.
long set_robust_list(robust_list_head* head, std::size_t len) noexcept;

// The head registered by thread `tid` (0: the calling thread). 0 or -errno;
// *head is nullptr when nothing is registered.
long get_robust_list(pid_t tid, robust_list_head** head, std::size_t* len) noexcept;

// The calling thread's id in its own PID namespace (what the kernel compares
// with the owner bits of a robust futex when the thread dies).
pid_t gettid() noexcept;

}  // namespace rfutex::sys
