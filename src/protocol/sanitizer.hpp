// SPDX-License-Identifier: MIT
// Tells ThreadSanitizer about synchronisation it cannot see: a release or
// acquisition of a lock word performed by the kernel (FUTEX_LOCK_PI,
// FUTEX_UNLOCK_PI, FUTEX_ROBUST_UNLOCK) or by the vDSO. No-ops otherwise.
#pragma once

// g++ defines __SANITIZE_THREAD__; clang answers only __has_feature.
#if defined(__SANITIZE_THREAD__)
#define RFUTEX_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define RFUTEX_TSAN 1
#endif
#endif

#if defined(RFUTEX_TSAN)
#include <sanitizer/tsan_interface.h>
#endif

namespace rfutex::protocol {

inline void tsan_release(void* address) noexcept {
#if defined(RFUTEX_TSAN)
  __tsan_release(address);
#else
  (void)address;
#endif
}

inline void tsan_acquire(void* address) noexcept {
#if defined(RFUTEX_TSAN)
  __tsan_acquire(address);
#else
  (void)address;
#endif
}

}  // namespace rfutex::protocol
