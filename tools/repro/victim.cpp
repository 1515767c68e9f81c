// SPDX-License-Identifier: MIT
// The victim process of `rfutex repro`: thread U unlocks under the tracer's
// single-stepping; thread H remaps the lock's page when told.
#include <pthread.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <system_error>
#include <thread>

#include "../../src/linux/futex.hpp"
#include "../../src/linux/robust_list.hpp"
#include "../../src/linux/vdso.hpp"
#include "repro.hpp"
#include "rfutex/robust_mutex.hpp"
#include "rfutex/strategy.hpp"
#include "rfutex/unmap.hpp"

extern "C" {
// Defined by librfutex-guard.so when it is loaded.
__attribute__((weak)) extern const int rfutex_guard_loaded;
}

namespace rfutex::tool::repro {

namespace {

constexpr std::size_t page_size = 4096;

std::atomic_ref<std::uint32_t> flag(std::uint32_t& f) { return std::atomic_ref<std::uint32_t>(f); }

void raise_flag(std::uint32_t& f) {
  // release: everything the victim wrote into the block before is visible to
  // the tracer once it sees the flag.
  flag(f).store(1, std::memory_order_release);
  sys::futex_wake(&f, INT_MAX);
}

void wait_flag(std::uint32_t& f) {
  // acquire: pairs with the tracer's release store of the flag.
  while (flag(f).load(std::memory_order_acquire) == 0) sys::futex_wait(&f, 0, nullptr);
}

void fail_setup(control_block& c, int error, const std::string& what) {
  c.setup_errno = error != 0 ? error : EINVAL;
  std::snprintf(c.message, sizeof c.message, "%s", what.c_str());
  raise_flag(c.ready);
  ::_exit(3);
}

// The lock under test, placed at the start of the shared page.
struct lock_under_test {
  virtual ~lock_under_test() = default;
  virtual void lock() = 0;
  virtual void unlock() = 0;
};

struct glibc_lock final : lock_under_test {
  pthread_mutex_t* m;
  explicit glibc_lock(void* at) : m(static_cast<pthread_mutex_t*>(at)) {
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
    pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
    pthread_mutex_init(m, &a);
    pthread_mutexattr_destroy(&a);
  }
  void lock() override { pthread_mutex_lock(m); }
  void unlock() override { pthread_mutex_unlock(m); }
};

struct rfutex_lock final : lock_under_test {
  robust_mutex* m;
  explicit rfutex_lock(void* at) : m(::new (at) robust_mutex) {}
  void lock() override { (void)m->lock(); }
  void unlock() override { m->unlock(); }
};

void* raw_map_fixed(void* at, int fd) {
  // Every argument as a long: syscall() is variadic and the kernel's mmap
  // reads whole registers, so an int's upper half would be garbage.
#if defined(SYS_mmap2)
  const long r = ::syscall(SYS_mmap2, at, page_size, long{PROT_READ | PROT_WRITE},
                           long{MAP_SHARED | MAP_FIXED}, long{fd}, 0L);
#else
  const long r = ::syscall(SYS_mmap, at, page_size, long{PROT_READ | PROT_WRITE},
                           long{MAP_SHARED | MAP_FIXED}, long{fd}, 0L);
#endif
  return r == -1 ? MAP_FAILED : reinterpret_cast<void*>(r);
}

// H: replaces the lock's page by the second file, the way `remap` says.
int remap_page(remap_mode remap, void* page, int fd_b) {
  try {
    switch (remap) {
      case remap_mode::rfutex:
        rfutex::unmap(page, page_size);
        (void)rfutex::map_fixed(page, page_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd_b, 0);
        return 0;
      case remap_mode::libc:
        if (::munmap(page, page_size) != 0) return errno;
        return ::mmap(page, page_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd_b, 0) ==
                       MAP_FAILED
                   ? errno
                   : 0;
      case remap_mode::raw:
        if (::syscall(SYS_munmap, page, page_size) != 0) return errno;
        return raw_map_fixed(page, fd_b) == MAP_FAILED ? errno : 0;
    }
  } catch (const std::system_error& e) {
    return e.code().value();
  }
  return EINVAL;
}

}  // namespace

// argv: __repro-victim <control fd> <file A fd> <file B fd> <unlock> <remap>
int victim_main(int argc, char* const* argv) {
  if (argc != 6) return 2;
  const int fd_control = std::atoi(argv[1]), fd_a = std::atoi(argv[2]), fd_b = std::atoi(argv[3]);
  const auto unlock = parse_unlock(argv[4]);
  const auto remap = parse_remap(argv[5]);
  void* cp = ::mmap(nullptr, sizeof(control_block), PROT_READ | PROT_WRITE, MAP_SHARED, fd_control, 0);
  if (cp == MAP_FAILED || !unlock || !remap) return 2;
  auto& c = *static_cast<control_block*>(cp);
  c.guard_loaded = &rfutex_guard_loaded != nullptr ? 1 : 0;
  const auto& vdso = sys::vdso();
  c.vdso_begin = reinterpret_cast<std::uintptr_t>(vdso.base);
  c.vdso_end = c.vdso_begin + vdso.text_size;

  void* page = ::mmap(nullptr, page_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd_a, 0);
  if (page == MAP_FAILED) fail_setup(c, errno, "mmap of the lock's file");
  alignas(robust_mutex) static unsigned char warm_up_storage[64];

  lock_under_test* lock = nullptr;
  lock_under_test* warm_up = nullptr;
  if (*unlock == unlock_mode::glibc) {
    std::snprintf(c.strategy, sizeof c.strategy, "glibc");
    lock = new glibc_lock(page);
    warm_up = new glibc_lock(warm_up_storage);
  } else {
    try {
      std::snprintf(c.strategy, sizeof c.strategy, "%s",
                    std::string(to_string(active_unlock_strategy())).c_str());
    } catch (const std::system_error& e) {
      fail_setup(c, e.code().value(), e.what());
    }
    lock = new rfutex_lock(page);
    warm_up = new rfutex_lock(warm_up_storage);
  }

  std::thread h([&] {
    wait_flag(c.go_remap);
    c.remap_errno = remap_page(*remap, page, fd_b);
    raise_flag(c.remap_done);
    for (;;) ::pause();
  });
  std::thread u([&] {
    // Warm up: resolve every symbol, initialise rfutex's thread state, so the
    // traced unlock runs the steady-state path.
    for (int i = 0; i < 2; ++i) {
      warm_up->lock();
      warm_up->unlock();
    }
    sys::robust_list_head* head = nullptr;
    std::size_t len = 0;
    sys::get_robust_list(0, &head, &len);
    c.u_tid = static_cast<std::uint32_t>(sys::gettid());
    c.lock_address = reinterpret_cast<std::uintptr_t>(page);
    c.pending_slot = reinterpret_cast<std::uintptr_t>(&head->list_op_pending);
    lock->lock();
    raise_flag(c.ready);
    // Spin in user space: the tracer interrupts us here, then lets us go.
    while (flag(c.go_unlock).load(std::memory_order_acquire) == 0) {
#if defined(__x86_64__) || defined(__i386__)
      asm volatile("pause");
#endif
    }
    lock->unlock();
    for (;;) ::pause();
  });
  h.join();  // never: the tracer kills the process
  u.join();
  return 0;
}

}  // namespace rfutex::tool::repro
