// SPDX-License-Identifier: MIT
// The public guard API: scrub, then do what libc does.
#include "rfutex/unmap.hpp"

#include <sys/mman.h>
#include <sys/shm.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <system_error>

#include "../linux/memory_map.hpp"
#include "remap.hpp"
#include "scrub.hpp"
#include "thread_registry.hpp"

namespace rfutex {

namespace {

std::uintptr_t address_of(const void* p) { return reinterpret_cast<std::uintptr_t>(p); }

[[noreturn]] void fail(const char* what) {
  throw std::system_error(errno, std::generic_category(), what);
}

void* libc_mremap(void* old_address, std::size_t old_length, std::size_t new_length, int flags,
                  void* new_address) noexcept {
  return ::mremap(old_address, old_length, new_length, flags, new_address);
}

}  // namespace

std::size_t scrub_pending(const void* address, std::size_t length) noexcept {
  return guard::scrub_registered(address_of(address), address_of(address) + length);
}

void unmap(void* address, std::size_t length) {
  (void)guard::scrub_pages(address, length);  // the kernel unmaps whole pages
  if (::munmap(address, length) != 0) fail("rfutex::unmap: munmap");
}

void* remap(void* old_address, std::size_t old_length, std::size_t new_length, int flags,
            void* new_address) {
  void* r = guard::guarded_mremap(libc_mremap, old_address, old_length, new_length, flags, new_address);
  if (r == MAP_FAILED) fail("rfutex::remap: mremap");
  return r;
}

void* map_fixed(void* address, std::size_t length, int prot, int flags, int fd, off_t offset) {
  (void)guard::scrub_pages(address, length);
  void* r = ::mmap(address, length, prot, flags | MAP_FIXED, fd, offset);
  if (r == MAP_FAILED) fail("rfutex::map_fixed: mmap");
  return r;
}

void detach_shm(const void* address) {
  // shmdt takes no length: the attached segment is the mapping starting here
  // (System V segments are mapped whole).
  if (const std::size_t length = sys::mapping_length_at(address_of(address)); length != 0)
    scrub_pending(address, length);
  if (::shmdt(address) != 0) fail("rfutex::detach_shm: shmdt");
}

std::size_t guarded_thread_count() noexcept { return guard::registered_count(); }

}  // namespace rfutex
