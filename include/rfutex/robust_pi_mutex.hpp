// SPDX-License-Identifier: MIT
// rfutex::robust_pi_mutex — robust_mutex with priority inheritance.
//
// Same interface, errors, owner-death rules and 40-byte layout as
// rfutex::robust_mutex (see robust_mutex.hpp). A thread blocked on it lends
// its priority to the owner: the kernel queues waiters by priority
// (FUTEX_LOCK_PI) and hands the lock to the highest on unlock
// (FUTEX_UNLOCK_PI — with FUTEX_ROBUST_UNLOCK on Linux >= 7.2). The
// uncontended lock and unlock stay in user space, race-free as for
// robust_mutex. Bytes used as a robust_pi_mutex must never be used as a
// robust_mutex, or the other way round.
#pragma once

#include "rfutex/robust_mutex.hpp"

namespace rfutex {

using robust_pi_mutex = basic_robust_mutex<detail::lock_kind::priority_inheritance>;

static_assert(sizeof(robust_pi_mutex) == sizeof(detail::lock_storage) &&
              alignof(robust_pi_mutex) == alignof(detail::lock_storage));

}  // namespace rfutex
