// SPDX-License-Identifier: MIT
// A crash-safe multi-process job queue in shared memory.
//
// Producer processes put numbered jobs into a bounded ring, consumer
// processes take them out and record each one as done; the parent SIGKILLs
// producers and consumers at random moments (holding the lock, waiting,
// anywhere) and starts new ones. At the end every job ever numbered must be
// done exactly once: nothing lost, nothing duplicated.
//
//   job_queue [--kills N] [--producers P] [--consumers C] [--seed S]
//
// The pattern (docs/crash-consistency.md): every critical section writes an
// undo record first and marks it valid, then changes the data, then marks
// the record void. Whoever next gets owner_died from the mutex finds the
// record valid exactly when the dead holder stopped half-way, puts the old
// values back, and calls make_consistent(). The record is in the same shared
// memory, under the same mutex.
#include <rfutex/robust_condition_variable.hpp>
#include <rfutex/robust_lock.hpp>
#include <rfutex/robust_mutex.hpp>
#include <rfutex/shared_region.hpp>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace {

constexpr std::uint32_t ring_size = 16;
constexpr std::uint32_t max_jobs = 1u << 20;

// What a critical section is about to change, with the values before.
struct undo_record {
  std::uint32_t valid;  // 1 while the section is under way
  std::uint32_t head, tail, next_job;
  std::uint32_t job;       // the job a consumer is marking done
  std::uint8_t job_count;  // done_count[job] before
};

struct queue {
  rfutex::robust_mutex mutex;
  rfutex::robust_condition_variable not_empty, not_full;
  std::uint32_t head = 0, tail = 0;  // ring indices, ever increasing
  std::uint32_t next_job = 0;        // the next job number a producer hands out
  std::uint32_t stop_producing = 0;  // set by the parent for the final drain
  std::uint32_t ring[ring_size] = {};
  undo_record undo = {};
  std::uint64_t recoveries = 0;
  std::uint64_t rollbacks = 0;  // recoveries that found a half-done section
  std::uint8_t done_count[max_jobs] = {};  // how often each job was consumed
  std::uint32_t log[512] = {};             // scratch the sections fill in
};

// Stands for the work a real section does between its first and last
// update (here: filling in a log entry), so that deaths land inside
// sections, where the undo record matters.
void describe(queue& q, std::uint32_t job) {
  for (std::uint32_t i = 0; i < 512; ++i) {
    std::atomic_ref<std::uint32_t>(q.log[i]).store(job * 31 + i, std::memory_order_relaxed);
  }
}

// Keeps the compiler from moving stores across it. A SIGKILL stops this
// thread between two instructions, and the next owner reads memory as this
// thread's instructions left it; so the order of the stores in the program
// must be the order of the steps. No CPU fence is needed: the kernel's
// hand-over of the robust mutex orders the dead thread's stores before the
// next owner's acquisition.
void step_barrier() { std::atomic_signal_fence(std::memory_order_seq_cst); }

void begin_section(queue& q, std::uint32_t job = 0) {
  q.undo.head = q.head;
  q.undo.tail = q.tail;
  q.undo.next_job = q.next_job;
  q.undo.job = job;
  q.undo.job_count = q.done_count[job];
  step_barrier();
  q.undo.valid = 1;
  step_barrier();
}

void end_section(queue& q) {
  step_barrier();
  q.undo.valid = 0;
}

// After owner_died: roll a half-done section back, then declare it repaired.
void repair(queue& q, rfutex::robust_lock<rfutex::robust_mutex>& lock) {
  if (q.undo.valid != 0) {
    q.head = q.undo.head;
    q.tail = q.undo.tail;
    q.next_job = q.undo.next_job;
    q.done_count[q.undo.job] = q.undo.job_count;
    ++q.rollbacks;
    step_barrier();
    q.undo.valid = 0;
  }
  ++q.recoveries;
  lock.make_consistent();
}

// Waits on `cv` until `ready()`, repairing whenever the mutex's last holder
// died (the wait re-acquires it with owner_died).
template <class Ready>
void wait_until(queue& q, rfutex::robust_condition_variable& cv,
                rfutex::robust_lock<rfutex::robust_mutex>& lock, Ready ready) {
  while (!ready()) {
    if (cv.wait(lock) == rfutex::lock_status::owner_died) repair(q, lock);
  }
}

[[noreturn]] void producer(queue& q) {
  for (;;) {
    rfutex::robust_lock lock(q.mutex);
    if (lock.owner_died()) repair(q, lock);
    wait_until(q, q.not_full, lock, [&] { return q.tail - q.head < ring_size || q.stop_producing; });
    if (q.stop_producing || q.next_job == max_jobs) {
      lock.unlock();
      pause();
    }
    begin_section(q);
    const std::uint32_t job = q.next_job;
    q.next_job = job + 1;
    describe(q, job);  // the section's real work, between the two updates
    q.ring[q.tail % ring_size] = job;
    q.tail = q.tail + 1;
    end_section(q);
    q.not_empty.notify_one();
  }
}

[[noreturn]] void consumer(queue& q) {
  for (;;) {
    rfutex::robust_lock lock(q.mutex);
    if (lock.owner_died()) repair(q, lock);
    wait_until(q, q.not_empty, lock, [&] { return q.tail != q.head; });
    const std::uint32_t job = q.ring[q.head % ring_size];
    begin_section(q, job);
    q.done_count[job] = static_cast<std::uint8_t>(q.done_count[job] + 1);
    describe(q, job);
    q.head = q.head + 1;
    end_section(q);
    q.not_full.notify_one();
  }
}

pid_t spawn(queue& q, bool is_producer) {
  const pid_t pid = fork();
  if (pid < 0) {
    std::perror("fork");
    std::exit(2);
  }
  if (pid == 0) {
    if (is_producer) producer(q);
    consumer(q);
  }
  return pid;
}

long option(int argc, char** argv, const char* name, long fallback) {
  for (int i = 1; i + 1 < argc; ++i)
    if (std::strcmp(argv[i], name) == 0) return std::strtol(argv[i + 1], nullptr, 10);
  return fallback;
}

}  // namespace

int main(int argc, char** argv) {
  const long kills = option(argc, argv, "--kills", 1000);
  const int producers = static_cast<int>(option(argc, argv, "--producers", 2));
  const int consumers = static_cast<int>(option(argc, argv, "--consumers", 2));
  std::mt19937 random(static_cast<unsigned>(option(argc, argv, "--seed", 1)));

  auto region = rfutex::shared_region::create_memfd(sizeof(queue), "job_queue");
  auto& q = *region.construct<queue>();
  std::vector<pid_t> workers;
  for (int i = 0; i < producers + consumers; ++i) workers.push_back(spawn(q, i < producers));

  std::uniform_int_distribution<int> pick(0, producers + consumers - 1);
  std::uniform_int_distribution<int> pause_us(0, 400);
  for (long k = 0; k < kills; ++k) {
    usleep(static_cast<useconds_t>(pause_us(random)));  // a random moment
    int victim = pick(random);
    if (k % 2 == 1) {
      // Every other kill aims at the worst moment: a holder half-way through
      // a section (its TID is its PID: workers are single-threaded).
      for (int spin = 0; spin < 1'000'000; ++spin) {
        if (std::atomic_ref<std::uint32_t>(q.undo.valid).load(std::memory_order_relaxed) == 0) continue;
        const pid_t holder = q.mutex.owner();
        for (std::size_t i = 0; i < workers.size(); ++i)
          if (workers[i] == holder) victim = static_cast<int>(i);
        break;
      }
    }
    pid_t& worker = workers[static_cast<std::size_t>(victim)];
    kill(worker, SIGKILL);
    waitpid(worker, nullptr, 0);
    worker = spawn(q, victim < producers);
  }

  // Drain: producers stop handing out numbers; consumers empty the ring.
  {
    rfutex::robust_lock lock(q.mutex);
    if (lock.owner_died()) repair(q, lock);
    q.stop_producing = 1;
    q.not_full.notify_all();
    wait_until(q, q.not_full, lock, [&] {
      q.not_empty.notify_all();
      return q.tail == q.head;
    });
  }
  for (pid_t w : workers) {
    kill(w, SIGKILL);
    waitpid(w, nullptr, 0);
  }

  rfutex::robust_lock lock(q.mutex);
  if (lock.owner_died()) repair(q, lock);
  std::uint32_t lost = 0, duplicated = 0;
  for (std::uint32_t j = 0; j < q.next_job; ++j) {
    if (q.done_count[j] == 0) ++lost;
    if (q.done_count[j] > 1) ++duplicated;
  }
  std::printf("job_queue: %ld kills, %u jobs, %llu recoveries (%llu rolled back), %u lost, %u duplicated: %s\n",
              kills, q.next_job, static_cast<unsigned long long>(q.recoveries),
              static_cast<unsigned long long>(q.rollbacks), lost, duplicated,
              lost == 0 && duplicated == 0 && q.next_job > 0 ? "PASS" : "FAIL");
  return lost == 0 && duplicated == 0 && q.next_job > 0 ? 0 : 1;
}
