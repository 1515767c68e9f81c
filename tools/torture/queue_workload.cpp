// SPDX-License-Identifier: MIT
// robust_condition_variable under torture: a bounded producer/consumer queue
// (a robust_mutex and two condition variables). Thread 0 of every worker
// produces, thread 1 consumes. Item n carries the value n, so a consumer
// checks FIFO order and that nothing was lost or duplicated; head - tail
// stays within [0, capacity].
#include <cstdio>

#include "journal.hpp"
#include "rfutex/robust_condition_variable.hpp"
#include "rfutex/robust_mutex.hpp"
#include "workload.hpp"

namespace rfutex::tool::torture {

namespace {

constexpr std::uint64_t capacity = 8;

struct queue_cell {
  robust_mutex m;
  journal record;
  robust_condition_variable not_empty, not_full;
  std::uint64_t head = 0, tail = 0;  // pushed, popped
  std::uint64_t items[capacity] = {};
};

// Rolls a dead holder's half-done push or pop back.
struct restore_queue {
  queue_cell* q;
  void operator()(const std::uint64_t* before) const {
    q->head = before[0];
    q->tail = before[1];
  }
};

class queue_workload final : public workload {
 public:
  const char* name() const override { return "queue"; }
  std::size_t arena_bytes() const override { return sizeof(queue_cell); }
  void place(void* arena, std::uint32_t first_lock) override {
    q_ = new (arena) queue_cell();
    id_ = first_lock;
  }
  std::size_t lock_count() const override { return 1; }
  lock_info lock(std::size_t) const override {
    return {"queue", reinterpret_cast<const std::uint32_t*>(&q_->m), false, &q_->record};
  }
  bool serves(std::uint32_t index) const override { return index <= 1; }

  void step(thread_context& t) override { operate(t, t.index == 0); }

  // A notify_one taken by a waiter that then died is lost for the others
  // (as with any condition variable): the supervisor that reaps a worker
  // wakes everyone, who re-check the queue.
  void after_death() override { wake_for_drain(); }
  void wake_for_drain() override {
    q_->not_empty.notify_all();
    q_->not_full.notify_all();
  }

  void final_check(thread_context& parent) override {
    parent.publish(phase::acquiring, id_);
    const lock_status s = q_->m.lock();
    if (after_acquire(parent, q_->m, q_->record, s, "queue", restore()) ) check_shape(parent);
    q_->m.unlock();
  }

 private:
  restore_queue restore() const { return {q_}; }

  bool check_shape(thread_context& t) {
    if (q_->head - q_->tail > capacity) {
      record_failure(*t.ctl, "queue: invariant broken: head=%llu tail=%llu",
                     static_cast<unsigned long long>(q_->head),
                     static_cast<unsigned long long>(q_->tail));
      return false;
    }
    return true;
  }

  void operate(thread_context& t, bool produce) {
    t.publish(phase::acquiring, id_);
    lock_status s = q_->m.lock();
    for (;;) {
      if (!after_acquire(t, q_->m, q_->record, s, "queue", restore()) || !check_shape(t)) {
        t.publish(phase::releasing, id_);
        q_->m.unlock();
        return;
      }
      const bool ready = produce ? q_->head - q_->tail < capacity : q_->head != q_->tail;
      if (ready) break;
      if (t.stopping()) {
        t.publish(phase::releasing, id_);
        q_->m.unlock();
        t.publish(phase::idle, 0);
        return;
      }
      t.publish(phase::waiting, id_);
      s = (produce ? q_->not_full : q_->not_empty).wait(q_->m);
    }
    open_journal(t, q_->record, q_->head, q_->tail);
    t.publish(phase::holding, id_);
    if (produce) {
      q_->items[q_->head % capacity] = q_->head;
      ++q_->head;
      q_->not_empty.notify_one();  // inside the critical section: a death before it rolls the push back
    } else {
      const std::uint64_t v = q_->items[q_->tail % capacity];
      if (v != q_->tail)
        record_failure(*t.ctl, "queue: item %llu holds %llu (lost, duplicated or reordered)",
                       static_cast<unsigned long long>(q_->tail), static_cast<unsigned long long>(v));
      ++q_->tail;
      q_->not_full.notify_one();
    }
    t.publish(phase::releasing, id_);
    close_journal(t, q_->record, "queue");
    q_->m.unlock();
    t.publish(phase::idle, 0);
  }

  queue_cell* q_ = nullptr;
  std::uint32_t id_ = 0;
};

}  // namespace

std::unique_ptr<workload> make_queue_workload() { return std::make_unique<queue_workload>(); }

}  // namespace rfutex::tool::torture
