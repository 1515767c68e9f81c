// SPDX-License-Identifier: MIT
// robust_shared_mutex under torture: two counters, equal outside a writer's
// critical section. One operation in three writes (as for the mutexes: the
// journal, one counter, yield, the other); the rest read and check the
// invariant. A reader's death needs no repair and is reported to nobody; a
// writer's is reported to the next writer (who repairs) and to readers
// until then (who must not trust the data).
#include <sched.h>

#include "journal.hpp"
#include "rfutex/robust_shared_mutex.hpp"
#include "workload.hpp"

namespace rfutex::tool::torture {

namespace {

struct shared_mutex_cell {
  robust_shared_mutex m;
  journal record;
  std::uint64_t a = 0, b = 0;
};

class shared_mutex_workload final : public workload {
 public:
  const char* name() const override { return "shared_mutex"; }
  std::size_t arena_bytes() const override { return sizeof(shared_mutex_cell); }
  void place(void* arena, std::uint32_t first_lock) override {
    c_ = new (arena) shared_mutex_cell();
    id_ = first_lock;
  }
  std::size_t lock_count() const override { return 1; }
  lock_info lock(std::size_t) const override {
    return {"shared_mutex", reinterpret_cast<const std::uint32_t*>(&c_->m), false, &c_->record};
  }
  bool serves(std::uint32_t) const override { return true; }

  void step(thread_context& t) override {
    // relaxed: a hint, as for the mutexes.
    if ((t.ctl->calm_locks.load(std::memory_order_relaxed) >> id_ & 1u) != 0) {
      sched_yield();
      return;
    }
    if (t.below(3) == 0)
      write(t, 1u + t.below(3));
    else
      read(t);
  }

  void final_check(thread_context& parent) override { write(parent, 0); }

 private:
  void write(thread_context& t, std::uint32_t yields) {
    shared_mutex_cell& c = *c_;
    t.publish(phase::acquiring, id_);
    const lock_status s = c.m.lock();
    if (!after_acquire(t, c.m, c.record, s, "shared_mutex", [&c](const std::uint64_t* before) {
          c.a = before[0];
          c.b = before[1];
        })) {
      t.publish(phase::releasing, id_);
      c.m.unlock();
      return;
    }
    if (c.a != c.b)
      record_failure(*t.ctl, "shared_mutex: invariant broken: a=%llu b=%llu",
                     static_cast<unsigned long long>(c.a), static_cast<unsigned long long>(c.b));
    open_journal(t, c.record, c.a, c.b);
    t.publish(phase::holding, id_);
    ++c.a;
    for (std::uint32_t k = 0; k < yields; ++k) sched_yield();
    ++c.b;
    t.publish(phase::releasing, id_);
    close_journal(t, c.record, "shared_mutex");
    c.m.unlock();
    t.publish(phase::idle, 0);
  }

  void read(thread_context& t) {
    shared_mutex_cell& c = *c_;
    t.publish(phase::acquiring, id_);
    const lock_status s = c.m.lock_shared();
    t.publish(phase::reading, id_);
    // Readers of data whose writer died unrepaired learn it (owner_died) and
    // must not judge it; otherwise the data is whole and no writer is inside.
    if (s == lock_status::acquired) {
      // relaxed: the lock orders it (see journal.hpp).
      if (std::atomic_ref<std::uint32_t>(c.record.open).load(std::memory_order_relaxed) != 0)
        record_failure(*t.ctl, "shared_mutex: read-locked while a writer's journal is open (holder %u)",
                       c.record.holder - 1);
      else if (c.a != c.b)
        record_failure(*t.ctl, "shared_mutex: reader sees a=%llu b=%llu",
                       static_cast<unsigned long long>(c.a), static_cast<unsigned long long>(c.b));
    }
    sched_yield();
    t.publish(phase::releasing, id_);
    c.m.unlock_shared();
    t.publish(phase::idle, 0);
  }

  shared_mutex_cell* c_ = nullptr;
  std::uint32_t id_ = 0;
};

}  // namespace

std::unique_ptr<workload> make_shared_mutex_workload() { return std::make_unique<shared_mutex_workload>(); }

}  // namespace rfutex::tool::torture
