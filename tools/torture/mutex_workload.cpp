// SPDX-License-Identifier: MIT
// robust_mutex and robust_pi_mutex under torture: each copy protects two
// counters that must be equal outside the critical section; every critical
// section increments one, yields, increments the other.
#include <sched.h>

#include <cstdio>

#include "journal.hpp"
#include "rfutex/robust_mutex.hpp"
#include "rfutex/robust_pi_mutex.hpp"
#include "workload.hpp"

namespace rfutex::tool::torture {

namespace {

template <class Mutex>
struct mutex_cell {
  Mutex m;
  journal record;
  std::uint64_t a = 0, b = 0;  // invariant: a == b outside the critical section
  char name[24] = {};
};

template <class Mutex>
class mutex_workload final : public workload {
 public:
  mutex_workload(const char* kind, bool pi, int copies) : kind_(kind), pi_(pi), copies_(copies) {}

  const char* name() const override { return kind_; }
  std::size_t arena_bytes() const override { return sizeof(mutex_cell<Mutex>) * static_cast<std::size_t>(copies_); }
  void place(void* arena, std::uint32_t first_lock) override {
    cells_ = static_cast<mutex_cell<Mutex>*>(arena);
    first_ = first_lock;
    for (int i = 0; i < copies_; ++i) {
      auto* c = new (&cells_[i]) mutex_cell<Mutex>();
      std::snprintf(c->name, sizeof c->name, "%s%d", kind_, i);
    }
  }
  std::size_t lock_count() const override { return static_cast<std::size_t>(copies_); }
  lock_info lock(std::size_t i) const override {
    return {cells_[i].name, reinterpret_cast<const std::uint32_t*>(&cells_[i].m), pi_,
            &cells_[i].record};
  }
  bool serves(std::uint32_t) const override { return true; }

  void step(thread_context& t) override {
    const auto n = static_cast<std::uint32_t>(copies_);
    // relaxed: a hint; an operation started just before a lock turned calm
    // is one the watch waits for anyway.
    const std::uint32_t calm = t.ctl->calm_locks.load(std::memory_order_relaxed);
    const std::uint32_t first_pick = t.below(n);
    for (std::uint32_t k = 0; k < n; ++k) {
      const std::uint32_t i = (first_pick + k) % n;
      if ((calm >> (first_ + i) & 1u) == 0) return critical_section(t, cells_[i], first_ + i, 1u + t.below(3));
    }
    sched_yield();  // every copy is calm
  }

  void final_check(thread_context& parent) override {
    for (int i = 0; i < copies_; ++i)
      critical_section(parent, cells_[i], first_ + static_cast<std::uint32_t>(i), 0);
  }

 private:
  static void critical_section(thread_context& t, mutex_cell<Mutex>& c, std::uint32_t id,
                               std::uint32_t yields) {
    t.publish(phase::acquiring, id);
    const lock_status s = c.m.lock();
    if (!after_acquire(t, c.m, c.record, s, c.name, [&c](const std::uint64_t* before) {
          c.a = before[0];
          c.b = before[1];
        })) {
      t.publish(phase::releasing, id);
      c.m.unlock();
      return;
    }
    if (c.a != c.b)
      record_failure(*t.ctl, "%s: invariant broken: a=%llu b=%llu", c.name,
                     static_cast<unsigned long long>(c.a), static_cast<unsigned long long>(c.b));
    open_journal(t, c.record, c.a, c.b);
    t.publish(phase::holding, id);
    ++c.a;
    for (std::uint32_t k = 0; k < yields; ++k) sched_yield();  // let others pile up on the lock
    ++c.b;
    t.publish(phase::releasing, id);
    close_journal(t, c.record, c.name);
    c.m.unlock();
    t.publish(phase::idle, 0);
  }

  const char* kind_;
  bool pi_;
  int copies_;
  mutex_cell<Mutex>* cells_ = nullptr;
  std::uint32_t first_ = 0;
};

}  // namespace

std::unique_ptr<workload> make_mutex_workload(int copies) {
  return std::make_unique<mutex_workload<robust_mutex>>("mutex", false, copies);
}

std::unique_ptr<workload> make_pi_mutex_workload(int copies) {
  return std::make_unique<mutex_workload<robust_pi_mutex>>("pi_mutex", true, copies);
}

}  // namespace rfutex::tool::torture
