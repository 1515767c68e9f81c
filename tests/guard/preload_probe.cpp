// SPDX-License-Identifier: MIT
// Run by preload_test, with and without LD_PRELOAD=librfutex-guard.so: a
// thread created by pthread_create (glibc's, never touching rfutex) leaves a
// stale list_op_pending into a mapping; the main thread then changes the
// mapping with plain libc calls. Prints what became of the slot.
//   preload_probe munmap|munmap_part_of_a_page|mmap_fixed|mutex_destroy
//                 mremap_shrink_tail|mremap_shrink_kept|mremap_grow_kept|
//                 mremap_move|mremap_fixed_target
#include <pthread.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <future>
#include <thread>

#include "linux/robust_list.hpp"

namespace {

rfutex::sys::robust_list_head* head_of_thread = nullptr;

void point_pending_at(const void* word) {
  __atomic_store_n(&head_of_thread->list_op_pending,
                   reinterpret_cast<rfutex::sys::robust_list*>(
                       reinterpret_cast<std::uintptr_t>(word) -
                       static_cast<std::uintptr_t>(head_of_thread->futex_offset)),
                   __ATOMIC_RELAXED);
}

char* map_pages(std::size_t n) {
  return static_cast<char*>(::mmap(nullptr, n * 4096, PROT_READ | PROT_WRITE,
                                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
}

}  // namespace

extern "C" {
__attribute__((weak)) extern const int rfutex_guard_loaded;
}

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  const char* how = argv[1];
  char* page = map_pages(3);
  if (page == MAP_FAILED) return 3;

  std::promise<void> parked, finished;
  std::thread t([&] {
    std::size_t len = 0;
    rfutex::sys::get_robust_list(0, &head_of_thread, &len);
    // The thread stays alive, as if stopped between releasing the lock and
    // clearing its pending slot (the guard scrubs live threads; a thread that
    // exits has finished its unlock). The main thread points the slot.
    parked.set_value();
    finished.get_future().wait();
    head_of_thread->list_op_pending = nullptr;
  });
  parked.get_future().wait();

  const auto is = [&](const char* name) { return std::strcmp(how, name) == 0; };
  if (is("munmap")) {
    point_pending_at(page + 64);
    ::munmap(page, 8192);
  } else if (is("munmap_part_of_a_page")) {  // the kernel unmaps the whole page
    point_pending_at(page + 200);
    ::munmap(page, 100);
  } else if (is("mmap_fixed")) {
    point_pending_at(page + 64);
    ::mmap(page, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
  } else if (is("mremap_shrink_tail")) {  // page 1 goes
    point_pending_at(page + 4096 + 64);
    ::mremap(page, 8192, 4096, 0);
  } else if (is("mremap_shrink_kept")) {  // page 0 stays
    point_pending_at(page + 64);
    ::mremap(page, 8192, 4096, MREMAP_MAYMOVE);
  } else if (is("mremap_grow_kept")) {  // grows into the room made for it
    ::munmap(page + 4096, 8192);
    point_pending_at(page + 64);
    if (::mremap(page, 4096, 8192, MREMAP_MAYMOVE) != page) return 4;
  } else if (is("mremap_move")) {  // page 1 is mapped: page 0 must move to grow
    point_pending_at(page + 64);
    if (::mremap(page, 4096, 8192, MREMAP_MAYMOVE) == page) return 4;
  } else if (is("mremap_fixed_target")) {  // a fresh page moved over page 2
    char* source = map_pages(1);
    point_pending_at(page + 8192 + 64);
    if (::mremap(source, 4096, 4096, MREMAP_MAYMOVE | MREMAP_FIXED, page + 8192) != page + 8192)
      return 4;
  } else if (is("mutex_destroy")) {
    auto* mutex = reinterpret_cast<pthread_mutex_t*>(page + 64);
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
    pthread_mutex_init(mutex, &a);
    point_pending_at(mutex);
    pthread_mutex_destroy(mutex);
  } else {
    return 2;
  }
  std::printf("guard=%s pending=%s\n", &rfutex_guard_loaded != nullptr ? "loaded" : "absent",
              __atomic_load_n(&head_of_thread->list_op_pending, __ATOMIC_RELAXED) == nullptr
                  ? "cleared"
                  : "stale");
  finished.set_value();
  t.join();
  return 0;
}
