// Run by preload_test, with and without LD_PRELOAD=librfutex-guard.so: a
// thread created by pthread_create (glibc's, never touching rfutex) leaves a
// stale list_op_pending into a page; the main thread then unmaps the page
// with plain libc calls. Prints what became of the slot.
//   preload_probe munmap|mmap_fixed|mremap|mutex_destroy
#include <pthread.h>
#include <sys/mman.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <future>
#include <thread>

#include "linux/robust_list.hpp"

namespace {

rfutex::sys::robust_list_head* head_of_thread = nullptr;

}  // namespace

extern "C" {
__attribute__((weak)) extern const int rfutex_guard_loaded;
}

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  const char* how = argv[1];
  void* page = ::mmap(nullptr, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  auto* word = static_cast<char*>(page) + 64;
  pthread_mutex_t* mutex = reinterpret_cast<pthread_mutex_t*>(word);

  std::promise<void> parked, finished;
  std::thread t([&] {
    std::size_t len = 0;
    rfutex::sys::get_robust_list(0, &head_of_thread, &len);
    // As if the thread were stopped between releasing the lock at `word`
    // and clearing its pending slot (it stays alive: the guard scrubs live
    // threads; a thread that exits has finished its unlock).
    head_of_thread->list_op_pending = reinterpret_cast<rfutex::sys::robust_list*>(
        reinterpret_cast<std::uintptr_t>(word) -
        static_cast<std::uintptr_t>(head_of_thread->futex_offset));
    parked.set_value();
    finished.get_future().wait();
    head_of_thread->list_op_pending = nullptr;
  });
  parked.get_future().wait();

  if (std::strcmp(how, "munmap") == 0) {
    ::munmap(page, 8192);
  } else if (std::strcmp(how, "mmap_fixed") == 0) {
    ::mmap(page, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
  } else if (std::strcmp(how, "mremap") == 0) {
    ::mremap(page, 8192, 4096, 0);
  } else if (std::strcmp(how, "mutex_destroy") == 0) {
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
    pthread_mutex_init(mutex, &a);
    head_of_thread->list_op_pending = reinterpret_cast<rfutex::sys::robust_list*>(
        reinterpret_cast<std::uintptr_t>(word) -
        static_cast<std::uintptr_t>(head_of_thread->futex_offset));
    pthread_mutex_destroy(mutex);
  } else {
    return 2;
  }
  std::printf("guard=%s pending=%s\n", &rfutex_guard_loaded != nullptr ? "loaded" : "absent",
              head_of_thread->list_op_pending == nullptr ? "cleared" : "stale");
  finished.set_value();
  t.join();
  return 0;
}
