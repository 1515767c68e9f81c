// SPDX-License-Identifier: MIT
// A worker process (see worker.hpp).
#include "worker.hpp"

#include <sys/syscall.h>
#include <unistd.h>

#include <exception>
#include <thread>

#include "region_cycle.hpp"

namespace rfutex::tool::torture {

namespace {

void thread_main(const worker_setup& w, region_cycle& regions, std::uint32_t index) {
  thread_context t;
  t.ctl = w.ctl;
  t.deaths = const_cast<ledger*>(&w.deaths);
  t.slot = &w.slots[index];
  t.incarnation = w.incarnation * w.threads + index;
  t.index = index;
  // Deterministic per thread incarnation (the schedule is not).
  t.rng.seed(w.ctl->seed * 0x9e3779b97f4a7c15ULL + t.incarnation);
  t.slot->tid.store(static_cast<std::int32_t>(::syscall(SYS_gettid)), std::memory_order_relaxed);

  std::vector<workload*> mine;
  for (auto& wl : *w.workloads)
    if (wl->serves(index)) mine.push_back(wl.get());
  region_member membership;
  try {
    while (!t.stopping()) {
      // 3 in 10 operations on the worker's region (threads 1 and up), the
      // rest spread over the shared lock types this thread serves.
      if (index >= 1 && t.below(10) < 3)
        regions.step(t, membership);
      else
        mine[t.below(static_cast<std::uint32_t>(mine.size()))]->step(t);
      // relaxed: a progress counter, read by the parent's watchdog only.
      t.slot->ops.fetch_add(1, std::memory_order_relaxed);
    }
    // Leave the region properly so that the drain unmaps nothing in use.
    while (membership.region != nullptr) regions.step(t, membership);
  } catch (const std::exception& e) {
    record_failure(*w.ctl, "thread %u of worker %u: %s", index, w.incarnation, e.what());
  }
  t.publish(phase::parked, 0);
}

}  // namespace

void worker_main(const worker_setup& w) {
  region_cycle regions(*w.ctl, w.incarnation);
  std::vector<std::thread> threads;
  for (std::uint32_t i = 0; i < w.threads; ++i)
    threads.emplace_back([&w, &regions, i] { thread_main(w, regions, i); });
  for (auto& t : threads) t.join();
  regions.finish();
  ::_exit(0);
}

}  // namespace rfutex::tool::torture
