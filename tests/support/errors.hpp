// SPDX-License-Identifier: MIT
// The errno a call reports through std::system_error, for tests of errors.
#pragma once

#include <functional>
#include <system_error>

namespace rfutex::test {

// Runs `f`; returns the errno of the std::system_error it threw, 0 if it did
// not throw.
inline int errno_thrown_by(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::system_error& e) {
    return e.code().value();
  }
  return 0;
}

}  // namespace rfutex::test
