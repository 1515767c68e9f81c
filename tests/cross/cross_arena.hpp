// SPDX-License-Identifier: MIT
// The memory shared by the processes of the cross-width test: the four
// locks under test and what each protects, the kill plan and the record of
// every recovery. Only 4-byte fields and rfutex locks (alignas 8), so the
// bytes are the same in a 64-bit and a 32-bit process (checked below).
#pragma once

#include <cstddef>
#include <cstdint>

#include "rfutex/robust_condition_variable.hpp"
#include "rfutex/robust_mutex.hpp"
#include "rfutex/robust_pi_mutex.hpp"
#include "rfutex/robust_shared_mutex.hpp"

namespace rfutex::cross {

inline constexpr std::uint32_t max_kills = 32;
inline constexpr std::uint32_t max_slots = 2 * max_kills + 4;  // peer incarnations
inline constexpr std::uint32_t rounds_after_plan = 6;           // cv rounds once no kill is left

// What the killer waits for before SIGKILL.
enum target : std::uint32_t {
  anywhere = 0,  // while the victim works (it has just been given its turn),
                 // after a random delay: wherever it is then (a lock, an unlock,
                 // a critical section, a wait, ...)
  holding_m = 1,  // the victim holds the mutex (it waits there to be killed)
  holding_pm = 2,  // the victim holds the PI mutex
  holding_rw = 3,  // the victim holds the reader-writer lock exclusively
  holding_rw_shared = 4,  // the victim holds it shared (a reader)
};

enum lock_index : std::uint32_t { mutex_lock = 0, pi_lock = 1, cv_lock = 2, rw_lock = 3, lock_count = 4 };

// A counter with one share per peer incarnation, and the undo journal of the
// update in progress: after an owner death the recoverer rolls it back, so
// total == sum(by_slot) always holds with the lock free.
struct counted {
  std::uint32_t total;
  std::uint32_t journal_valid;
  std::uint32_t journal_slot;
  std::uint32_t journal_total;
  std::uint32_t journal_share;
  std::uint32_t by_slot[max_slots];
};

struct kill_step {
  std::uint32_t killer;  // role 0 or 1
  std::uint32_t what;    // target
  std::uint32_t delay;   // anywhere: sched_yield()s between the killer's check and the kill
};

struct arena {
  robust_mutex m;                // +0
  robust_pi_mutex pm;            // +40
  robust_mutex cm;               // +80: the condition variable's mutex
  robust_condition_variable cv;  // +120
  counted data[lock_count];      // data[i] is protected by lock i
  // Protected by cm:
  std::uint32_t turn;            // role whose cv round is next
  std::uint32_t stop;            // 1: every peer finishes
  // Written by their owner, read by the other processes:
  std::uint32_t pid[2];          // current peer of each role, 0 while dead
  std::uint32_t bits[2];         // pointer width of each role's process
  std::uint32_t phase[2];        // target value while waiting to be killed
  // The plan (written by the driver before any peer starts) and its progress:
  std::uint32_t kills;           // plan length
  kill_step plan[max_kills];
  std::uint32_t next_kill;       // the step to perform next (advanced by its killer)
  std::uint32_t kills_done;      // futex word: sweeps finished (the driver waits on it)
  // Recoveries: owner_died acquisitions in a killer's sweep, [lock][role of
  // the recoverer]; and owner_died anywhere else (must stay 0).
  std::uint32_t recovered[lock_count][2];
  // Readers killed holding rw whose hold the killer's writer sweep found
  // gone (no owner death), per role of the killer.
  std::uint32_t readers_freed[2];
  std::uint32_t unexpected_owner_died;
  std::uint32_t failures;
  robust_shared_mutex rw;        // data[rw_lock]: written under lock(), checked under lock_shared()
};

static_assert(sizeof(counted) == 4 * (5 + max_slots));
static_assert(offsetof(arena, pm) == 40 && offsetof(arena, cm) == 80 && offsetof(arena, cv) == 120 &&
              offsetof(arena, data) == 128);
static_assert(offsetof(arena, turn) == 128 + lock_count * sizeof(counted));
inline constexpr std::size_t arena_fields_end =
    128 + lock_count * sizeof(counted) + 4 * (2 + 6 + 1 + 3 * max_kills + 2 + 2 * lock_count + 2 + 2);
static_assert(offsetof(arena, rw) == (arena_fields_end + 7) / 8 * 8);
static_assert(sizeof(arena) == offsetof(arena, rw) + sizeof(robust_shared_mutex));

}  // namespace rfutex::cross
