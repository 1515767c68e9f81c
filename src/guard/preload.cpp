// librfutex-guard.so — the unmap guard for unmodified programs.
//
// Loaded with LD_PRELOAD (or linked as rfutex::guard), it interposes the
// calls that can replace memory under a robust lock — munmap, mremap,
// mmap(MAP_FIXED), shmdt — and pthread_mutex_destroy, and runs the guard's
// scrub before each. It finds every thread by interposing pthread_create
// (a thread registers itself when it starts; the main thread when the
// library loads), so glibc's own robust mutexes are protected too.
//
// It only guards: every call then does exactly what libc would. The real
// memory calls are made as raw syscalls, never through dlsym, so the guard
// cannot recurse into itself when dlsym or malloc map memory.
//
// Not seen: raw syscalls, and libc-internal unmaps (malloc returning a large
// block) — destroy a mutex before freeing its memory; the destroy is guarded.
#include <dlfcn.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "../linux/memory_map.hpp"
#include "scrub.hpp"
#include "thread_registry.hpp"

namespace {

using rfutex::guard::register_current_thread;
using rfutex::guard::scrub_registered;

std::uintptr_t address_of(const void* p) { return reinterpret_cast<std::uintptr_t>(p); }

void scrub(const void* address, std::size_t length) {
  scrub_registered(address_of(address), address_of(address) + length);
}

void register_this_thread() {
  rfutex::sys::robust_list_head* head = nullptr;
  std::size_t len = 0;
  if (rfutex::sys::get_robust_list(0, &head, &len) == 0 && head != nullptr)
    register_current_thread(head);
}

__attribute__((constructor)) void register_main_thread() { register_this_thread(); }

void* raw_mmap(void* address, std::size_t length, int prot, int flags, int fd, off_t offset) {
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


struct start_routine {
  void* (*fn)(void*);
  void* arg;
};

void* start_registered(void* p) {
  const start_routine r = *static_cast<start_routine*>(p);
  std::free(p);
  register_this_thread();
  return r.fn(r.arg);
}

template <class Fn>
Fn next_symbol(const char* name) {
  void* p = ::dlsym(RTLD_NEXT, name);
  if (p == nullptr) {
    std::fprintf(stderr, "librfutex-guard: %s not found\n", name);
    std::abort();
  }
  return reinterpret_cast<Fn>(p);
}

}  // namespace

#define RFUTEX_EXPORT extern "C" __attribute__((visibility("default")))

// Lets a program (or `rfutex repro`) see that the guard is loaded.
RFUTEX_EXPORT const int rfutex_guard_loaded = 1;

RFUTEX_EXPORT int munmap(void* address, std::size_t length) noexcept {
  scrub(address, length);
  return static_cast<int>(::syscall(SYS_munmap, address, length));
}

RFUTEX_EXPORT void* mmap(void* address, std::size_t length, int prot, int flags, int fd,
                         off_t offset) noexcept {
  if ((flags & MAP_FIXED) != 0) scrub(address, length);
  return raw_mmap(address, length, prot, flags, fd, offset);
}

RFUTEX_EXPORT void* mmap64(void* address, std::size_t length, int prot, int flags, int fd,
                           off64_t offset) noexcept {
  if ((flags & MAP_FIXED) != 0) scrub(address, length);
  return raw_mmap(address, length, prot, flags, fd, static_cast<off_t>(offset));
}

RFUTEX_EXPORT void* mremap(void* old_address, std::size_t old_length, std::size_t new_length,
                           int flags, ...) noexcept {
  void* new_address = nullptr;
  if ((flags & MREMAP_FIXED) != 0) {
    va_list ap;
    va_start(ap, flags);
    new_address = va_arg(ap, void*);
    va_end(ap);
    scrub(new_address, new_length);
  }
  scrub(old_address, old_length);
  const long r = ::syscall(SYS_mremap, old_address, old_length, new_length, long{flags}, new_address);
  return r == -1 ? MAP_FAILED : reinterpret_cast<void*>(r);
}

RFUTEX_EXPORT int shmdt(const void* address) noexcept {
  if (const std::size_t length = rfutex::sys::mapping_length_at(address_of(address)); length != 0)
    scrub(address, length);
  return static_cast<int>(::syscall(SYS_shmdt, address));
}

RFUTEX_EXPORT int pthread_mutex_destroy(pthread_mutex_t* m) noexcept {
  static const auto real = next_symbol<int (*)(pthread_mutex_t*)>("pthread_mutex_destroy");
  scrub(m, sizeof *m);
  return real(m);
}

RFUTEX_EXPORT int pthread_create(pthread_t* thread, const pthread_attr_t* attr,
                                 void* (*fn)(void*), void* arg) noexcept {
  static const auto real =
      next_symbol<int (*)(pthread_t*, const pthread_attr_t*, void* (*)(void*), void*)>(
          "pthread_create");
  auto* start = static_cast<start_routine*>(std::malloc(sizeof(start_routine)));
  if (start == nullptr) return EAGAIN;
  *start = {fn, arg};
  const int r = real(thread, attr, start_registered, start);
  if (r != 0) std::free(start);
  return r;
}
