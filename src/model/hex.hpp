// SPDX-License-Identifier: MIT
// Hexadecimal rendering for traces.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>

namespace rfutex::model {

inline std::string hex(std::uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

}  // namespace rfutex::model
