// SPDX-License-Identifier: MIT
// The locks rfutex-bench-native compares, behind one tiny interface:
//
//   bool lock();    // true when acquired normally (checked by the contended
//                   // runs; the uncontended loop ignores it, as rfutex's
//                   // [[nodiscard]] lock_status is cast to void there)
//   void unlock();
//
// Every lock is constructed in place (ordinary memory or a MAP_SHARED
// mapping) and never moved.
#pragma once

#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <optional>
#include <string_view>

#include "rfutex/robust_mutex.hpp"
#include "rfutex/robust_shared_mutex.hpp"
#if __has_include("rfutex/robust_pi_mutex.hpp")
#include "rfutex/robust_pi_mutex.hpp"
#define RFUTEX_BENCH_HAVE_PI 1
#else
#define RFUTEX_BENCH_HAVE_PI 0
#endif

namespace rfutex::bench {

// Names are the ones `rfutex bench` reports.
enum class lock_kind : unsigned char {
  glibc_default,         // PTHREAD_MUTEX_DEFAULT (pshared only where processes share it)
  glibc_robust,          // PTHREAD_MUTEX_ROBUST, private
  glibc_robust_pshared,  // PTHREAD_MUTEX_ROBUST, PTHREAD_PROCESS_SHARED
  glibc_robust_pi,       // PTHREAD_MUTEX_ROBUST + PTHREAD_PRIO_INHERIT
  rfutex_robust,         // rfutex::robust_mutex (the process's unlock strategy)
  rfutex_robust_pi,      // rfutex::robust_pi_mutex, where this rfutex has it
  floor,                 // one lock cmpxchg to lock, one to unlock: no lock is cheaper
  minimal_robust,        // rfutex's protocol alone, inline (a bound; uncontended only)
  pthread_rwlock_read,   // pthread_rwlock_t (PTHREAD_PROCESS_SHARED; no robust one exists): rdlock
  pthread_rwlock_write,  // ... wrlock
  rfutex_shared_read,    // rfutex::robust_shared_mutex: lock_shared
  rfutex_shared_write,   // ... lock
};

struct lock_kind_name {
  lock_kind kind;
  std::string_view name;
};

inline constexpr lock_kind_name lock_kinds[] = {
    {lock_kind::glibc_default, "glibc_default"},
    {lock_kind::glibc_robust, "glibc_robust"},
    {lock_kind::glibc_robust_pshared, "glibc_robust_pshared"},
    {lock_kind::glibc_robust_pi, "glibc_robust_pi"},
    {lock_kind::rfutex_robust, "rfutex_robust"},
#if RFUTEX_BENCH_HAVE_PI
    {lock_kind::rfutex_robust_pi, "rfutex_robust_pi"},
#endif
    {lock_kind::floor, "floor"},
    {lock_kind::minimal_robust, "minimal_robust"},
    {lock_kind::pthread_rwlock_read, "pthread_rwlock_read"},
    {lock_kind::pthread_rwlock_write, "pthread_rwlock_write"},
    {lock_kind::rfutex_shared_read, "rfutex_shared_read"},
    {lock_kind::rfutex_shared_write, "rfutex_shared_write"},
};

inline std::optional<lock_kind> parse_lock_kind(std::string_view name) {
  for (const auto& k : lock_kinds)
    if (k.name == name) return k.kind;
  return std::nullopt;
}

inline std::string_view name_of(lock_kind kind) {
  for (const auto& k : lock_kinds)
    if (k.kind == kind) return k.name;
  return "?";
}

[[noreturn]] inline void die(const char* what, int error) {
  std::fprintf(stderr, "rfutex-bench-native: %s: %s\n", what, std::strerror(error));
  std::exit(1);
}

class pthread_lock {
 public:
  pthread_lock(bool robust, bool pshared, bool pi) {
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    if (robust) pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
    if (pshared) pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
    if (pi) pthread_mutexattr_setprotocol(&attr, PTHREAD_PRIO_INHERIT);
    if (const int r = pthread_mutex_init(&m_, &attr); r != 0) die("pthread_mutex_init", r);
    pthread_mutexattr_destroy(&attr);
  }
  pthread_lock(const pthread_lock&) = delete;
  pthread_lock& operator=(const pthread_lock&) = delete;
  ~pthread_lock() { pthread_mutex_destroy(&m_); }

  bool lock() noexcept { return pthread_mutex_lock(&m_) == 0; }
  void unlock() noexcept { pthread_mutex_unlock(&m_); }

 private:
  pthread_mutex_t m_;
};

template <class Mutex>
class basic_rfutex_lock {
 public:
  bool lock() { return m_.lock() == lock_status::acquired; }
  void unlock() { m_.unlock(); }

 private:
  Mutex m_;
};
using rfutex_lock = basic_rfutex_lock<robust_mutex>;
#if RFUTEX_BENCH_HAVE_PI
using rfutex_pi_lock = basic_rfutex_lock<robust_pi_mutex>;
#else
using rfutex_pi_lock = rfutex_lock;  // never constructed: the kind does not parse
#endif

// A reader-writer lock taken on one side. `exclusive` is false for the read
// side: holders overlap, so the contended run does not count under it.
class pthread_rwlock_side {
 public:
  explicit pthread_rwlock_side(bool write) : write_(write) {
    pthread_rwlockattr_t attr;
    pthread_rwlockattr_init(&attr);
    pthread_rwlockattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
    if (const int r = pthread_rwlock_init(&l_, &attr); r != 0) die("pthread_rwlock_init", r);
    pthread_rwlockattr_destroy(&attr);
  }
  pthread_rwlock_side(const pthread_rwlock_side&) = delete;
  pthread_rwlock_side& operator=(const pthread_rwlock_side&) = delete;
  ~pthread_rwlock_side() { pthread_rwlock_destroy(&l_); }

  bool lock() noexcept { return (write_ ? pthread_rwlock_wrlock(&l_) : pthread_rwlock_rdlock(&l_)) == 0; }
  void unlock() noexcept { pthread_rwlock_unlock(&l_); }
  bool exclusive() const noexcept { return write_; }

 private:
  pthread_rwlock_t l_;
  bool write_;
};

class rfutex_shared_side {
 public:
  explicit rfutex_shared_side(bool write) : write_(write) {}
  bool lock() {
    return (write_ ? m_.lock() : m_.lock_shared()) == lock_status::acquired;
  }
  void unlock() {
    if (write_)
      m_.unlock();
    else
      m_.unlock_shared();
  }
  bool exclusive() const noexcept { return write_; }

 private:
  robust_shared_mutex m_;
  bool write_;
};

// The floor: the two locked read-modify-writes any lock that hands a word
// from owner to owner must do. Not a usable lock (it never waits).
class floor_lock {
 public:
  floor_lock() noexcept : tid_(static_cast<std::uint32_t>(::gettid())) {}

  bool lock() noexcept {
    std::uint32_t expected = 0;
    return std::atomic_ref<std::uint32_t>(word_).compare_exchange_strong(
        expected, tid_, std::memory_order_acquire, std::memory_order_relaxed);
  }
  void unlock() noexcept {
    std::uint32_t expected = tid_;
    std::atomic_ref<std::uint32_t>(word_).compare_exchange_strong(
        expected, 0, std::memory_order_release, std::memory_order_relaxed);
  }

 private:
  alignas(8) std::uint32_t word_ = 0;
  std::uint32_t tid_;
};

// A bound, not a lock: rfutex's guarded protocol (DESIGN.md §1, lock_protocol.hpp)
// written out inline for the one list layout of glibc x86_64 (futex_offset
// -32, doubly linked, head with a prev slot), with no error, waiting or
// owner-death paths: what an uncontended robust lock+unlock pair costs when
// nothing but the protocol runs. Usable only by the thread that constructed it.
class minimal_robust_lock {
 public:
  minimal_robust_lock() noexcept {
    std::size_t len = 0;
    if (syscall(SYS_get_robust_list, 0, &head_, &len) != 0 || head_ == nullptr ||
        head_->futex_offset != -32)
      head_ = nullptr;
    tid_ = static_cast<std::uint32_t>(::gettid());
  }
  // False when this thread's list is not glibc x86_64's (then do not use it).
  bool usable() const noexcept { return head_ != nullptr; }

  bool lock() noexcept {
    const std::uintptr_t node = address() + 32, head = reinterpret_cast<std::uintptr_t>(head_);
    pending(node);
    std::uint32_t expected = 0;
    if (!std::atomic_ref<std::uint32_t>(word_).compare_exchange_strong(
            expected, tid_, std::memory_order_acquire, std::memory_order_relaxed)) {
      pending(0);
      return false;  // a bound: no waiting
    }
    const std::uintptr_t first = load(head);
    store(node, first);
    store(node - 8, head);
    store((first & ~std::uintptr_t{1}) - 8, node);
    store(head, node);
    pending(0);
    return std::atomic_ref<std::uint32_t>(state_).load(std::memory_order_relaxed) == 0;
  }
  void unlock() noexcept {
    const std::uintptr_t node = address() + 32;
    pending(node);
    const std::uintptr_t next = load(node), prev = load(node - 8);
    store(prev, next);
    store((next & ~std::uintptr_t{1}) - 8, prev);
    const std::uint32_t old =
        std::atomic_ref<std::uint32_t>(word_).exchange(0, std::memory_order_release);
    pending(0);
    if ((old & 0x80000000u) != 0)
      syscall(SYS_futex, &word_, 1 /* FUTEX_WAKE */, 1, nullptr, nullptr, 0);
  }

 private:
  struct list_head {
    void* next;
    long futex_offset;
    void* list_op_pending;
  };
  std::uintptr_t address() const noexcept { return reinterpret_cast<std::uintptr_t>(this); }
  static std::uintptr_t load(std::uintptr_t a) noexcept {
    return *reinterpret_cast<volatile std::uintptr_t*>(a);
  }
  static void store(std::uintptr_t a, std::uintptr_t v) noexcept {
    *reinterpret_cast<volatile std::uintptr_t*>(a) = v;
  }
  void pending(std::uintptr_t node) noexcept {
    asm volatile("" ::: "memory");
    __atomic_store_n(&head_->list_op_pending, reinterpret_cast<void*>(node), __ATOMIC_RELAXED);
    asm volatile("" ::: "memory");
  }

  // The rfutex lock layout: word, state, then the node (prev at +24, next at +32).
  alignas(8) std::uint32_t word_ = 0;
  std::uint32_t state_ = 0;
  [[maybe_unused]] unsigned char node_[32] = {};
  // Outside the 40 bytes the list sees.
  list_head* head_ = nullptr;
  std::uint32_t tid_ = 0;
};

// Calls f(lock&) with a lock of `kind` constructed at `where` (room for
// any_lock_size bytes, aligned to any_lock_align), destroying it afterwards.
inline constexpr std::size_t any_lock_size = 704;
inline constexpr std::size_t any_lock_align = 64;

template <class F>
decltype(auto) with_lock(lock_kind kind, bool pshared, void* where, F&& f) {
  static_assert(sizeof(pthread_lock) <= any_lock_size && sizeof(rfutex_lock) <= any_lock_size &&
                sizeof(floor_lock) <= any_lock_size &&
                sizeof(minimal_robust_lock) <= any_lock_size &&
                sizeof(pthread_rwlock_side) <= any_lock_size &&
                sizeof(rfutex_shared_side) <= any_lock_size);
  auto run = [&](auto* lock) -> decltype(auto) {
    struct destroy {
      decltype(lock) l;
      ~destroy() { std::destroy_at(l); }
    } guard{lock};
    return f(*lock);
  };
  switch (kind) {
    case lock_kind::glibc_default: return run(new (where) pthread_lock(false, pshared, false));
    case lock_kind::glibc_robust: return run(new (where) pthread_lock(true, pshared, false));
    case lock_kind::glibc_robust_pshared: return run(new (where) pthread_lock(true, true, false));
    case lock_kind::glibc_robust_pi: return run(new (where) pthread_lock(true, pshared, true));
    case lock_kind::rfutex_robust: return run(new (where) rfutex_lock());
    case lock_kind::rfutex_robust_pi: return run(new (where) rfutex_pi_lock());
    case lock_kind::minimal_robust: return run(new (where) minimal_robust_lock());
    case lock_kind::pthread_rwlock_read: return run(new (where) pthread_rwlock_side(false));
    case lock_kind::pthread_rwlock_write: return run(new (where) pthread_rwlock_side(true));
    case lock_kind::rfutex_shared_read: return run(new (where) rfutex_shared_side(false));
    case lock_kind::rfutex_shared_write: return run(new (where) rfutex_shared_side(true));
    case lock_kind::floor: break;
  }
  return run(new (where) floor_lock());
}

}  // namespace rfutex::bench
