// SPDX-License-Identifier: MIT
// One lock type under torture: the locks it puts in the shared arena, the
// operation a worker thread performs on them, and the checks at the end.
//
// Adding a lock type is one file: a class deriving from `workload`, and a
// line in make_workloads() (workloads.cpp).
//
// Every lock protects data with an invariant and a journal (journal.hpp):
// the journal is opened right after acquiring and closed right before
// releasing, so whoever acquires with owner_died knows whether the dead
// holder was inside its critical section, rolls the data back and reports
// the death in the ledger under the dead thread's incarnation.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <random>
#include <vector>

#include "torture.hpp"

namespace rfutex::tool::torture {

struct journal;

// What the parent needs to know about one lock.
struct lock_info {
  const char* name = "";
  const std::uint32_t* word = nullptr;  // the futex word (offset 0 of every rfutex lock)
  bool priority_inheritance = false;
  const journal* record = nullptr;
};

// A worker thread (or the parent, for the final pass) as the workloads see it.
struct thread_context {
  control* ctl = nullptr;
  ledger* deaths = nullptr;
  thread_slot* slot = nullptr;       // nullptr for the parent
  std::uint32_t incarnation = 0;     // journal holder id is incarnation + 1
  std::uint32_t index = 0;           // thread index within its worker (0 produces, 1 consumes)
  std::mt19937_64 rng;

  void publish(phase p, std::uint32_t lock) const {
    if (slot == nullptr) return;
    // relaxed: the lock index is read together with the phase, which is
    // published with release so that a reader acquiring the phase sees it.
    slot->lock.store(lock, std::memory_order_relaxed);
    slot->phase.store(static_cast<std::uint32_t>(p), std::memory_order_release);
  }
  bool stopping() const { return ctl->stop.load(std::memory_order_acquire) != 0; }
  std::uint32_t below(std::uint32_t n) { return static_cast<std::uint32_t>(rng() % n); }
};

class workload {
 public:
  virtual ~workload() = default;
  virtual const char* name() const = 0;

  // Bytes it needs in the shared arena (zero-filled), and placing itself
  // there; `first_lock` is the global index of its first lock.
  virtual std::size_t arena_bytes() const = 0;
  virtual void place(void* arena, std::uint32_t first_lock) = 0;

  virtual std::size_t lock_count() const = 0;
  virtual lock_info lock(std::size_t i) const = 0;

  // Whether a thread with this index takes part, and one operation by it.
  virtual bool serves(std::uint32_t thread_index) const = 0;
  virtual void step(thread_context& t) = 0;

  // Parent: after a worker died (wake whatever the dead may have been
  // expected to wake), and at the drain (wake every waiter so it sees stop).
  virtual void after_death() {}
  virtual void wake_for_drain() {}

  // Parent, when no worker is alive: take every lock once (recovering what
  // the last deaths left), check the invariants.
  virtual void final_check(thread_context& parent) = 0;
};

std::vector<std::unique_ptr<workload>> make_workloads();

// The lock types (one file each).
std::unique_ptr<workload> make_mutex_workload(int copies);
std::unique_ptr<workload> make_pi_mutex_workload(int copies);
std::unique_ptr<workload> make_queue_workload();
std::unique_ptr<workload> make_shared_mutex_workload();

}  // namespace rfutex::tool::torture
