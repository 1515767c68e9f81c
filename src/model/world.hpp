// SPDX-License-Identifier: MIT
// The model's world, as one hashable snapshot: the memory at the lock's
// address, the unlocking thread (registers, robust-list state, where it is),
// the other thread's progress, and what exit processing did when the
// unlocker died. Everything the explorer deduplicates on is in `state`;
// everything constant (programs, TIDs, addresses) lives elsewhere.
#pragma once

#include <cstddef>
#include <cstdint>

namespace rfutex::model {

// Futex word bits (include/uapi/linux/futex.h).
inline constexpr std::uint32_t futex_waiters = 0x80000000u;
inline constexpr std::uint32_t futex_owner_died = 0x40000000u;
inline constexpr std::uint32_t futex_tid_mask = 0x3fffffffu;

// The two threads of the process. The unrelated file's word holds the
// unlocker's TID: the worst case, the one in which the kernel's TID check
// cannot tell the file from the lock.
inline constexpr std::uint32_t unlocker_tid = 1000;
inline constexpr std::uint32_t other_tid = 2000;

// What is mapped at the lock's address.
enum class page : std::uint8_t {
  lock,  // the original page; its word is the lock
  file,  // a page of an unrelated file, mapped over it by the other thread
};

// Where the unlocking thread is. Kernel visits are single transitions (see
// transitions.hpp for why), so "in the kernel" is not a state of its own.
enum class mode : std::uint8_t {
  user,     // about to run the instruction at `pc`
  handler,  // diverted into a signal handler; `pc` and the registers are saved
  dead,     // killed; exit processing has run. Terminal: the whole process died.
};

// The other thread, a correct program: it waits for the lock, takes it once
// it is free, decides it is the last user and replaces the memory.
enum class other_phase : std::uint8_t {
  idle,      // has not touched the lock
  waiting,   // set FUTEX_WAITERS on the held lock and sleeps in FUTEX_WAIT
  owner,     // acquired the released lock
  guarded,   // ran the unmap guard over the range (libc remap, guarded protocol)
  remapped,  // mapped the file page over the lock (nothing left to do)
};

struct state {
  // Memory. `pending` abstracts list_op_pending: the only value it ever
  // holds besides 0 is &node (the lock's list node).
  page mapped = page::lock;
  std::uint32_t lock_word = unlocker_tid;  // the unlocker holds the lock
  std::uint32_t file_word = unlocker_tid;
  bool pending = false;  // list_op_pending == &node
  bool linked = true;    // node is on the unlocker's robust list

  // The unlocking thread.
  mode where = mode::user;
  std::uint8_t pc = 0;     // index into the program
  std::uint32_t acc = 0;   // x86 %eax / arm64 w4: value seen in the lock word
  bool zf = false;         // x86 ZF / arm64 Z of the last compare
  std::uint32_t w3 = 0;    // arm64: stlxr status (0: the store happened)
  bool monitor = false;    // arm64: exclusive monitor armed by ldxr

  other_phase other = other_phase::idle;

  // Set by the death transition (exit processing), hence only in dead states.
  bool foreign_write = false;  // the kernel wrote OWNER_DIED into the file page
  bool lost_lock = false;      // died owning the lock; the word lacks OWNER_DIED

  bool operator==(const state&) const = default;
};

struct state_hash {
  std::size_t operator()(const state& s) const noexcept;
};

// The word currently mapped at the lock's address.
inline std::uint32_t& word_at_lock_address(state& s) noexcept {
  return s.mapped == page::lock ? s.lock_word : s.file_word;
}
inline std::uint32_t word_at_lock_address(const state& s) noexcept {
  return s.mapped == page::lock ? s.lock_word : s.file_word;
}

}  // namespace rfutex::model
