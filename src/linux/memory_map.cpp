#include "memory_map.hpp"

#include <cstdio>

namespace rfutex::sys {

std::size_t mapping_length_at(std::uintptr_t address) noexcept {
  std::FILE* maps = std::fopen("/proc/self/maps", "re");
  if (maps == nullptr) return 0;
  unsigned long begin = 0, end = 0;
  std::size_t length = 0;
  char line[512];
  while (std::fgets(line, sizeof line, maps) != nullptr) {
    if (std::sscanf(line, "%lx-%lx", &begin, &end) == 2 && begin == address) {
      length = end - begin;
      break;
    }
  }
  std::fclose(maps);
  return length;
}

}  // namespace rfutex::sys
