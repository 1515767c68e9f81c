// SPDX-License-Identifier: MIT
#include "robust_list.hpp"

#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

namespace rfutex::sys {

long set_robust_list(robust_list_head* head, std::size_t len) noexcept {
  return ::syscall(SYS_set_robust_list, head, len) == -1 ? -errno : 0;
}

long get_robust_list(pid_t tid, robust_list_head** head, std::size_t* len) noexcept {
  return ::syscall(SYS_get_robust_list, tid, head, len) == -1 ? -errno : 0;
}

pid_t gettid() noexcept { return static_cast<pid_t>(::syscall(SYS_gettid)); }

}  // namespace rfutex::sys
