// SPDX-License-Identifier: MIT
#include "thread_liveness.hpp"

#include <signal.h>

#include <cerrno>

namespace rfutex::sys {

bool thread_exists(pid_t tid) noexcept {
  if (tid <= 0) return false;  // 0 and negatives name process groups, not threads
  // EPERM: it exists, we may just not signal it.
  return ::kill(tid, 0) == 0 || errno == EPERM;
}

}  // namespace rfutex::sys
