// SPDX-License-Identifier: MIT
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
//
// Covered threads: the main thread (registered when the library loads), every
// thread started through pthread_create, and in every fork child (also one
// forked again, daemon() style) the thread that forked, at once. Not covered:
// threads made by raw clone, and a thread created before the library loaded
// (dlopen of the library instead of LD_PRELOAD) other than the loading one.
//
// It depends on libc alone (no libstdc++, libgcc_s, libm: nothing that
// lengthens the start-up of every process it is loaded into), so this file
// uses no exceptions, no RTTI, no function-local statics (their guards live
// in libstdc++).
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
#include "remap.hpp"
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

// The next definition of `name` (libc's), looked up on first use. Two
// threads may both look it up; they find the same address. relaxed: the
// pointer is the only thing shared, and dlsym's answer does not change.
template <class Fn>
Fn next_symbol(Fn& cache, const char* name) {
  Fn fn = __atomic_load_n(&cache, __ATOMIC_RELAXED);
  if (fn != nullptr) return fn;
  void* p = ::dlsym(RTLD_NEXT, name);
  if (p == nullptr) {
    std::fprintf(stderr, "librfutex-guard: %s not found\n", name);
    std::abort();
  }
  fn = reinterpret_cast<Fn>(p);
  __atomic_store_n(&cache, fn, __ATOMIC_RELAXED);
  return fn;
}

using mutex_destroy_fn = int (*)(pthread_mutex_t*);
using thread_create_fn = int (*)(pthread_t*, const pthread_attr_t*, void* (*)(void*), void*);
mutex_destroy_fn real_mutex_destroy = nullptr;
thread_create_fn real_thread_create = nullptr;

}  // namespace

#define RFUTEX_EXPORT extern "C" __attribute__((visibility("default")))

// Lets a program (or `rfutex repro`) see that the guard is loaded.
RFUTEX_EXPORT const int rfutex_guard_loaded = 1;

// How many threads of this process the guard scrubs: a program (or a test)
// can compare it with its own thread count (/proc/self/task).
RFUTEX_EXPORT std::size_t rfutex_guard_registered_threads() noexcept {
  return rfutex::guard::registered_count();
}

RFUTEX_EXPORT int munmap(void* address, std::size_t length) noexcept {
  rfutex::guard::scrub_pages(address, length);  // the kernel unmaps whole pages
  return rfutex::sys::raw_munmap(address, length);
}

RFUTEX_EXPORT void* mmap(void* address, std::size_t length, int prot, int flags, int fd,
                         off_t offset) noexcept {
  if ((flags & MAP_FIXED) != 0) rfutex::guard::scrub_pages(address, length);
  return rfutex::sys::raw_mmap(address, length, prot, flags, fd, offset);
}

RFUTEX_EXPORT void* mmap64(void* address, std::size_t length, int prot, int flags, int fd,
                           off64_t offset) noexcept {
  if ((flags & MAP_FIXED) != 0) rfutex::guard::scrub_pages(address, length);
  return rfutex::sys::raw_mmap(address, length, prot, flags, fd, static_cast<off_t>(offset));
}

RFUTEX_EXPORT void* mremap(void* old_address, std::size_t old_length, std::size_t new_length,
                           int flags, ...) noexcept {
  void* new_address = nullptr;
  if ((flags & MREMAP_FIXED) != 0) {
    va_list ap;
    va_start(ap, flags);
    new_address = va_arg(ap, void*);
    va_end(ap);
  }
  return rfutex::guard::guarded_mremap(rfutex::sys::raw_mremap, old_address, old_length,
                                       new_length, flags, new_address);
}

RFUTEX_EXPORT int shmdt(const void* address) noexcept {
  if (const std::size_t length = rfutex::sys::mapping_length_at(address_of(address)); length != 0)
    scrub(address, length);
  return static_cast<int>(::syscall(SYS_shmdt, address));
}

RFUTEX_EXPORT int pthread_mutex_destroy(pthread_mutex_t* m) noexcept {
  const mutex_destroy_fn real = next_symbol(real_mutex_destroy, "pthread_mutex_destroy");
  scrub(m, sizeof *m);
  return real(m);
}

RFUTEX_EXPORT int pthread_create(pthread_t* thread, const pthread_attr_t* attr,
                                 void* (*fn)(void*), void* arg) noexcept {
  const thread_create_fn real = next_symbol(real_thread_create, "pthread_create");
  auto* start = static_cast<start_routine*>(std::malloc(sizeof(start_routine)));
  if (start == nullptr) return EAGAIN;
  *start = {fn, arg};
  const int r = real(thread, attr, start_registered, start);
  if (r != 0) std::free(start);
  return r;
}
