// SPDX-License-Identifier: MIT
// Which sanitizer this test binary is built with. g++ defines
// __SANITIZE_ADDRESS__ / __SANITIZE_THREAD__; clang 14 answers only
// __has_feature, so a test that checks the g++ macros alone runs (and fails)
// under clang's sanitizers.
#pragma once

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RFUTEX_TEST_ASAN 1
#endif
#if __has_feature(thread_sanitizer)
#define RFUTEX_TEST_TSAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) && !defined(RFUTEX_TEST_ASAN)
#define RFUTEX_TEST_ASAN 1
#endif
#if defined(__SANITIZE_THREAD__) && !defined(RFUTEX_TEST_TSAN)
#define RFUTEX_TEST_TSAN 1
#endif
