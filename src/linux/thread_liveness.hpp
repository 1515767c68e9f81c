// SPDX-License-Identifier: MIT
// Whether a thread ID names a live thread, as the calling process sees it.
#pragma once

#include <sys/types.h>

namespace rfutex::sys {

// True when `tid` names a thread (of any process) in the caller's PID
// namespace: kill(tid, 0) accepts any thread's ID and answers ESRCH only when
// none has it. A snapshot: the thread may exit, or the ID be reused, at once.
bool thread_exists(pid_t tid) noexcept;

}  // namespace rfutex::sys
