// SPDX-License-Identifier: MIT
// The journal every tortured lock keeps beside its data.
//
//   acquire (lock / wait returns)
//     owner_died: the dead holder's journal is open -> roll back, report it
//                 in the ledger under its incarnation; closed -> it died
//                 inside lock() or unlock(): nothing to roll back
//     acquired:   the journal must be closed (else a death went unreported,
//                 or two threads hold the lock)
//   open the journal (holder = me, snapshot of the data)   -> phase holding
//   change the data (invariant broken in between)
//   close the journal                                      -> phase releasing
//   release
//
// Written only by the lock's holder; read by the next holder and, for the
// final figures, by the parent when nobody else runs.
#pragma once

#include <atomic>
#include <cstdint>

#include "rfutex/lock_status.hpp"
#include "workload.hpp"

namespace rfutex::tool::torture {

struct journal {
  std::uint32_t open = 0;      // 1 while a holder is inside its critical section
  std::uint32_t holder = 0;    // that holder's incarnation + 1
  std::uint64_t before[2] = {};  // the data before the holder changed it
  std::uint64_t commits = 0;   // critical sections completed
  std::uint64_t attributed = 0;    // owner_died with the journal open (rolled back)
  std::uint64_t unattributed = 0;  // owner_died with the journal closed
};

namespace journal_detail {
inline std::atomic_ref<std::uint32_t> open_flag(journal& j) {
  return std::atomic_ref<std::uint32_t>(j.open);
}
}  // namespace journal_detail

// After an acquisition: recover (owner_died) or check the journal. `restore`
// receives the snapshot to roll back to. Returns false after recording a
// failure.
template <class Mutex, class Restore>
bool after_acquire(thread_context& t, Mutex& m, journal& j, lock_status s, const char* lock_name,
                   Restore restore) {
  // relaxed (here and below): the lock orders everything; atomic_ref only
  // keeps the compiler from tearing or moving the flag across the other
  // journal stores, which a SIGKILL could otherwise expose half-done.
  const bool was_open = journal_detail::open_flag(j).load(std::memory_order_relaxed) != 0;
  if (s == lock_status::owner_died) {
    t.ctl->recoveries.fetch_add(1, std::memory_order_relaxed);
    if (was_open) {
      const std::uint32_t dead = j.holder - 1;
      if (j.holder == 0 || dead >= t.deaths->capacity) {
        record_failure(*t.ctl, "%s: owner_died with a journal naming holder %u", lock_name,
                       j.holder);
        return false;
      }
      t.deaths->reports[dead].fetch_add(1, std::memory_order_relaxed);
      restore(j.before);
      ++j.attributed;
      journal_detail::open_flag(j).store(0, std::memory_order_relaxed);
    } else {
      ++j.unattributed;
    }
    m.make_consistent();
    return true;
  }
  if (was_open) {
    record_failure(*t.ctl,
                   "%s: acquired without owner_died while the journal of holder %u is open "
                   "(an owner death not reported, or two holders)",
                   lock_name, j.holder - 1);
    return false;
  }
  return true;
}

inline void open_journal(thread_context& t, journal& j, std::uint64_t a, std::uint64_t b) {
  j.before[0] = a;
  j.before[1] = b;
  j.holder = t.incarnation + 1;
  // release: the snapshot and holder are in memory before the flag says
  // "open" (a SIGKILL leaves exactly the stores made so far).
  journal_detail::open_flag(j).store(1, std::memory_order_release);
}

// Returns false (after recording a failure) when another holder's id is in
// the journal: mutual exclusion broke.
inline bool close_journal(thread_context& t, journal& j, const char* lock_name) {
  if (j.holder != t.incarnation + 1) {
    record_failure(*t.ctl, "%s: journal holder changed from %u to %u inside a critical section",
                   lock_name, t.incarnation, j.holder - 1);
    return false;
  }
  ++j.commits;
  // release: the data changes are in memory before the flag says "closed".
  journal_detail::open_flag(j).store(0, std::memory_order_release);
  return true;
}

}  // namespace rfutex::tool::torture
