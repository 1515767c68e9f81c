// This process's memory map, as /proc/self/maps tells it.
#pragma once

#include <cstddef>
#include <cstdint>

namespace rfutex::sys {

// Length of the mapping that starts exactly at `address`, or 0 when none
// does. Allocates nothing beyond stdio's buffer (safe inside an interposed
// munmap called by malloc).
std::size_t mapping_length_at(std::uintptr_t address) noexcept;

}  // namespace rfutex::sys
