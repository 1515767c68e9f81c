// SPDX-License-Identifier: MIT
// rfutex::shared_once — crash-safe one-time initialisation of shared memory.
//
//   struct shm { rfutex::shared_once once; table t; };
//   auto region = rfutex::shared_region::shm("/jobs", sizeof(shm), rfutex::open_mode::create_or_open);
//   auto* s = static_cast<shm*>(region.data());
//   s->once.call([&] { build_table(s->t); });   // whichever process comes first
//
// Zero bytes are a fresh shared_once, so memory just created (memfd,
// shm_open, a new file) needs no construction. call() runs `init` in exactly
// one process and thread at a time; everyone else waits for it and returns
// once the data is initialised. If the initialiser dies half-way (SIGKILL,
// crash), the next caller learns of it through the robust mutex inside and
// runs `init` again from the start — so `init` must build the data from
// scratch, whatever an earlier attempt left behind. If `init` throws,
// nothing is marked done and the exception propagates; the next caller tries
// again.
//
// Layout (48 bytes, the same in 32- and 64-bit processes): a robust_mutex
// (+0, 40 bytes), the done flag (+40: 0 not yet, 1 done), padding.
#pragma once

#include <atomic>
#include <cstdint>
#include <utility>

#include "rfutex/robust_lock.hpp"
#include "rfutex/robust_mutex.hpp"

namespace rfutex {

class shared_once {
 public:
  enum class outcome : unsigned char {
    ran,              // this call initialised the data
    ran_after_crash,  // ... after an earlier initialiser died half-way
    already_done,     // another call did, earlier
  };

  constexpr shared_once() noexcept = default;
  shared_once(const shared_once&) = delete;
  shared_once& operator=(const shared_once&) = delete;

  // Runs init() unless some call already completed it; see above. Errors:
  // the mutex's (std::system_error), and whatever init() throws.
  template <class Init>
  outcome call(Init&& init) {
    // acquire: pairs with the release below; the data init() wrote is
    // visible once `done` reads 1.
    if (flag().load(std::memory_order_acquire) == done_value) return outcome::already_done;
    robust_lock lock(mutex_);
    const bool crashed = lock.owner_died();
    // The flag is the journal: it says whether the dead holder finished.
    // Nothing else needs repair, so the mutex is consistent again at once.
    if (crashed) lock.make_consistent();
    // relaxed: we hold the mutex, whose acquisition ordered this load.
    if (flag().load(std::memory_order_relaxed) == done_value) return outcome::already_done;
    std::forward<Init>(init)();
    // release: the data happens-before any call that reads 1 (also without
    // the mutex, on the fast path above).
    flag().store(done_value, std::memory_order_release);
    return crashed ? outcome::ran_after_crash : outcome::ran;
  }

  // Whether some call() completed init().
  [[nodiscard]] bool done() const noexcept {
    return std::atomic_ref<std::uint32_t>(const_cast<std::uint32_t&>(done_))
               .load(std::memory_order_acquire) == done_value;
  }

 private:
  static constexpr std::uint32_t done_value = 1;
  std::atomic_ref<std::uint32_t> flag() noexcept { return std::atomic_ref<std::uint32_t>(done_); }

  robust_mutex mutex_;
  alignas(4) std::uint32_t done_ = 0;
  [[maybe_unused]] std::uint32_t reserved_ = 0;  // keeps the size 48 in 32- and 64-bit processes
};

static_assert(sizeof(shared_once) == 48);

}  // namespace rfutex
