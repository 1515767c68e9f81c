// SPDX-License-Identifier: MIT
#include "memory_map.hpp"

#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
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

void* raw_mmap(void* address, std::size_t length, int prot, int flags, int fd, off_t offset) noexcept {
  // Every argument as a long: syscall() is variadic and the kernel's mmap
  // reads whole registers, so an int's upper half would be garbage.
#if defined(SYS_mmap2)
  if (offset % 4096 != 0) {
    errno = EINVAL;
    return MAP_FAILED;
  }
  const long r = ::syscall(SYS_mmap2, address, length, long{prot}, long{flags}, long{fd},
                           static_cast<long>(offset / 4096));
#else
  const long r = ::syscall(SYS_mmap, address, length, long{prot}, long{flags}, long{fd},
                           static_cast<long>(offset));
#endif
  return r == -1 ? MAP_FAILED : reinterpret_cast<void*>(r);
}

int raw_munmap(void* address, std::size_t length) noexcept {
  return static_cast<int>(::syscall(SYS_munmap, address, length));
}

void* raw_mremap(void* old_address, std::size_t old_length, std::size_t new_length, int flags,
                 void* new_address) noexcept {
  const long r = ::syscall(SYS_mremap, old_address, old_length, new_length, long{flags}, new_address);
  return r == -1 ? MAP_FAILED : reinterpret_cast<void*>(r);
}

}  // namespace rfutex::sys
