// SPDX-License-Identifier: MIT
// Must not compile: wait() takes the mutex itself, not a std::unique_lock.
// The build's compile-fail check expects the static_assert's message.
#include <mutex>

#include "rfutex/robust_condition_variable.hpp"
#include "rfutex/robust_mutex.hpp"

void wait_with_a_guard(rfutex::robust_condition_variable& cv, rfutex::robust_mutex& m) {
#ifdef RFUTEX_COMPILE_FAIL
  std::unique_lock<rfutex::robust_mutex> guard(m);
  (void)cv.wait(guard);
#else
  (void)cv.wait(m);  // the control: the same file compiles with the mutex itself
#endif
}
