// SPDX-License-Identifier: MIT
// The alignment test of a lock's address, made so the compiler keeps it.
#pragma once

#include <cstddef>
#include <cstdint>

namespace rfutex::protocol {

// True when `p` is not a multiple of `alignment`. A compiler may assume that
// a pointer or reference to a type is aligned for it and fold the test to
// false (clang 14 does): the empty asm hides where the address came from, at
// no cost.
inline bool misaligned(const void* p, std::size_t alignment) {
  auto address = reinterpret_cast<std::uintptr_t>(p);
  asm("" : "+r"(address));
  return address % alignment != 0;
}

}  // namespace rfutex::protocol
