// SPDX-License-Identifier: MIT
// One peer of the cross-width test (tests/cross/cross_width_test.cpp): built
// for every width, exec'ed by the test with the shared memfd inherited.
//
//   rfutex_cross_width_peer <memfd> <role 0|1> <slot>
//
// Loop: a condition-variable round (strict alternation with the other role),
// then increments under the mutex, the PI mutex and the reader-writer lock
// held exclusively, and checks of that lock's counter while holding it
// shared. When the kill plan
// names this role as killer, it SIGKILLs the other role's peer at the
// planned point and at once takes every lock ("the sweep"): an owner death
// it finds was the victim's, and is repaired from the journal here — by the
// other width — before the driver starts the victim's successor.
// Exit 0 when the plan is done and the stop round has passed; 3 on a broken
// rule (message on stderr). SIGALRM bounds every wait.
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <exception>

#include "cross_arena.hpp"
#include "linux/futex.hpp"

namespace {

using namespace rfutex::cross;
using rfutex::lock_status;

constexpr unsigned peer_limit_s = 120;

arena* a = nullptr;
std::uint32_t role = 0;
std::uint32_t other = 1;
std::uint32_t slot = 0;

// Plain loads and stores of the shared fields. relaxed: each field is either
// protected by a lock (whose acquire/release orders it) or a flag polled
// until it changes; program order across a death is kept by order_stores().
std::uint32_t get(const std::uint32_t& f) {
  return std::atomic_ref<std::uint32_t>(const_cast<std::uint32_t&>(f)).load(std::memory_order_relaxed);
}
void put(std::uint32_t& f, std::uint32_t v) {
  std::atomic_ref<std::uint32_t>(f).store(v, std::memory_order_relaxed);
}
// A SIGKILL may stop us between any two stores: keep them in program order
// (the compiler only; the killed process's stores all reach memory before
// the kernel has finished its exit and the survivor looks).
void order_stores() { std::atomic_signal_fence(std::memory_order_seq_cst); }

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "peer role %u (%zu-bit, pid %d): %s\n", role, sizeof(void*) * 8,
               static_cast<int>(::getpid()), what);
  std::atomic_ref<std::uint32_t>(a->failures).fetch_add(1, std::memory_order_relaxed);
  std::_Exit(3);
}

// total and this slot's share + 1, undoable until journal_valid is cleared.
void increment(counted& d, bool hold_until_killed) {
  put(d.journal_total, get(d.total));
  put(d.journal_slot, slot);
  put(d.journal_share, get(d.by_slot[slot]));
  order_stores();
  put(d.journal_valid, 1);
  order_stores();
  put(d.total, get(d.total) + 1);
  order_stores();
  if (hold_until_killed) {
    // Half-updated (total counted, our share not): the killer sees our
    // phase, SIGKILLs us here, and must roll back from the journal.
    for (;;) ::sched_yield();
  }
  put(d.by_slot[slot], get(d.by_slot[slot]) + 1);
  order_stores();
  put(d.journal_valid, 0);
}

void roll_back(counted& d) {
  if (get(d.journal_valid) == 0) return;
  put(d.total, get(d.journal_total));
  put(d.by_slot[get(d.journal_slot)], get(d.journal_share));
  order_stores();
  put(d.journal_valid, 0);
}

// The step of the plan now due, or nullptr.
const kill_step* current_step() {
  // acquire: the killer's sweep and respawn request happen-before we act on the next step.
  const std::uint32_t k = std::atomic_ref<std::uint32_t>(a->next_kill).load(std::memory_order_acquire);
  return k < a->kills ? &a->plan[k] : nullptr;
}

// True when this peer is the planned victim of a "holding" step for lock `what`.
bool must_hold(target what) {
  const kill_step* s = current_step();
  return s != nullptr && s->killer == other && s->what == what;
}

template <class M>
void lock_repairing(M& m, counted& d, lock_index which, bool in_sweep) {
  if (m.lock() == lock_status::owner_died) {
    roll_back(d);
    if (in_sweep)
      std::atomic_ref<std::uint32_t>(a->recovered[which][role]).fetch_add(1, std::memory_order_relaxed);
    else
      std::atomic_ref<std::uint32_t>(a->unexpected_owner_died).fetch_add(1, std::memory_order_relaxed);
    m.make_consistent();
  }
}

// `reader_killed`: the victim was killed holding rw shared. Its hold must
// be gone (the kernel released its reader slot) and no owner death
// reported: a reader changes nothing that needs repair.
void sweep(bool reader_killed) {
  lock_repairing(a->m, a->data[mutex_lock], mutex_lock, true);
  a->m.unlock();
  lock_repairing(a->pm, a->data[pi_lock], pi_lock, true);
  a->pm.unlock();
  lock_repairing(a->cm, a->data[cv_lock], cv_lock, true);
  a->cm.unlock();
  // A reader's hold that was not released would block this for ever (the
  // alarm ends the peer and fails the test).
  if (a->rw.lock() == lock_status::owner_died) {
    if (reader_killed) fail("a reader's death was reported as a writer's (owner_died)");
    roll_back(a->data[rw_lock]);
    std::atomic_ref<std::uint32_t>(a->recovered[rw_lock][role]).fetch_add(1, std::memory_order_relaxed);
    a->rw.make_consistent();
  }
  a->rw.unlock();
  if (reader_killed)
    std::atomic_ref<std::uint32_t>(a->readers_freed[role]).fetch_add(1, std::memory_order_relaxed);
}

// Performs the due step if this role is its killer and its point is
// reached. `victim_active`: we gave the victim its turn since our last cv
// wait, so it is running its own loop now.
void maybe_kill(bool victim_active) {
  const kill_step* s = current_step();
  if (s == nullptr || s->killer != role) return;
  const auto victim = static_cast<pid_t>(get(a->pid[other]));
  if (victim == 0) return;  // its successor has not started yet
  if (s->what == anywhere ? !victim_active : get(a->phase[other]) != s->what) return;
  const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, victim, 0));
  if (pidfd < 0) fail("pidfd_open of the victim");
  for (std::uint32_t i = 0; i < s->delay; ++i) ::sched_yield();
  if (::kill(victim, SIGKILL) != 0) fail("kill");
  // Readable once it has exited: the kernel has walked its robust list.
  pollfd p{pidfd, POLLIN, 0};
  while (::poll(&p, 1, -1) != 1) {
  }
  ::close(pidfd);
  put(a->pid[other], 0);
  put(a->phase[other], anywhere);
  sweep(s->what == holding_rw_shared);
  // release: the sweep's repairs happen-before the next step and the respawn.
  std::atomic_ref<std::uint32_t>(a->next_kill).fetch_add(1, std::memory_order_release);
  std::atomic_ref<std::uint32_t>(a->kills_done).fetch_add(1, std::memory_order_release);
  rfutex::sys::futex_wake(&a->kills_done, 1);  // the driver starts the successor
}

bool killer_of_a_holding_step() {
  const kill_step* s = current_step();
  return s != nullptr && s->killer == role && s->what != anywhere;
}

// The killer of a "holding" step must not block on the lock its victim
// holds: it polls with try_lock and checks for its kill point in between.
template <class M>
void lock_for_work(M& m, counted& d, lock_index which) {
  if (killer_of_a_holding_step()) {
    for (;;) {
      auto r = m.try_lock();
      if (r) {
        if (r.owner_died()) {
          roll_back(d);
          std::atomic_ref<std::uint32_t>(a->unexpected_owner_died).fetch_add(1, std::memory_order_relaxed);
          m.make_consistent();
        }
        return;
      }
      maybe_kill(true);
      ::sched_yield();
    }
  }
  lock_repairing(m, d, which, false);
}

// Under rw held shared: the counter is whole (no update half done, none
// lost). The victim of a holding_rw_shared step waits here to be killed.
void read_under(rfutex::robust_shared_mutex& rw) {
  const counted& d = a->data[rw_lock];
  for (int i = 0; i < 3; ++i) {
    maybe_kill(true);
    lock_status status = lock_status::acquired;
    if (killer_of_a_holding_step()) {
      // The victim may hold rw exclusively: poll, checking for the kill point.
      for (;;) {
        auto r = rw.try_lock_shared();
        if (r) {
          status = r.owner_died() ? lock_status::owner_died : lock_status::acquired;
          break;
        }
        maybe_kill(true);
        ::sched_yield();
      }
    } else {
      status = rw.lock_shared();
    }
    // Every writer death is repaired in the killer's sweep, before anyone
    // else takes rw.
    if (status == lock_status::owner_died)
      std::atomic_ref<std::uint32_t>(a->unexpected_owner_died).fetch_add(1, std::memory_order_relaxed);
    std::uint32_t sum = 0;
    for (std::uint32_t s = 0; s < max_slots; ++s) sum += get(d.by_slot[s]);
    if (get(d.journal_valid) != 0 || get(d.total) != sum) fail("a reader saw a half-done update");
    if (must_hold(holding_rw_shared)) {
      put(a->phase[role], holding_rw_shared);
      for (;;) ::sched_yield();  // killed here, holding rw shared
    }
    rw.unlock_shared();
  }
}

// One strict-alternation round on the condition variable. False: stop.
bool cv_round(std::uint32_t& rounds_after) {
  lock_for_work(a->cm, a->data[cv_lock], cv_lock);
  while (get(a->turn) != role && get(a->stop) == 0) {
    if (killer_of_a_holding_step()) {
      // The victim has its turn and then goes to hold a lock: do not sleep
      // on the turn (nobody would give it back), poll for the kill point.
      a->cm.unlock();
      return true;
    }
    if (a->cv.wait(a->cm) == lock_status::owner_died) {
      roll_back(a->data[cv_lock]);
      std::atomic_ref<std::uint32_t>(a->unexpected_owner_died).fetch_add(1, std::memory_order_relaxed);
      a->cm.make_consistent();
    }
  }
  if (get(a->stop) != 0) {
    a->cm.unlock();
    return false;
  }
  increment(a->data[cv_lock], false);
  put(a->turn, other);
  if (current_step() == nullptr && ++rounds_after >= rounds_after_plan) put(a->stop, 1);
  a->cv.notify_all();
  a->cm.unlock();
  return true;
}

template <class M>
void work_under(M& m, lock_index which, target hold) {
  for (int i = 0; i < 3; ++i) {
    maybe_kill(true);
    lock_for_work(m, a->data[which], which);
    const bool hold_here = must_hold(hold);
    if (hold_here) put(a->phase[role], hold);
    increment(a->data[which], hold_here);
    m.unlock();
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s <memfd> <role> <slot>\n", argv[0]);
    return 2;
  }
  const int fd = std::atoi(argv[1]);
  role = static_cast<std::uint32_t>(std::atoi(argv[2])) & 1;
  other = role ^ 1;
  slot = static_cast<std::uint32_t>(std::atoi(argv[3]));
  if (slot >= max_slots) return 2;
  void* p = ::mmap(nullptr, sizeof(arena), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) {
    std::perror("mmap of the shared memfd");
    return 2;
  }
  ::close(fd);
  a = static_cast<arena*>(p);
  ::alarm(peer_limit_s);
  try {
    put(a->bits[role], sizeof(void*) * 8);
    put(a->phase[role], anywhere);
    // release: our pid tells the killer we are running with the arena mapped.
    std::atomic_ref<std::uint32_t>(a->pid[role]).store(static_cast<std::uint32_t>(::getpid()),
                                                        std::memory_order_release);
    std::uint32_t rounds_after = 0;
    for (;;) {
      maybe_kill(false);
      if (!cv_round(rounds_after)) break;
      maybe_kill(true);
      work_under(a->m, mutex_lock, holding_m);
      work_under(a->pm, pi_lock, holding_pm);
      work_under(a->rw, rw_lock, holding_rw);
      read_under(a->rw);
    }
  } catch (const std::exception& e) {
    fail(e.what());
  }
  return 0;
}
