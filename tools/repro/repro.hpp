// SPDX-License-Identifier: MIT
// rfutex repro: reproduces the robust-unlock race on the running kernel.
//
// A victim process (this binary, re-executed) has two threads. U locks a
// robust mutex at the start of a MAP_SHARED file page and unlocks it while
// the tracer single-steps U with ptrace until the lock word reads 0. Then
// the victim's other thread H (untraced) unmaps the page and maps a second
// file there, whose word at that offset holds U's TID; then the tracer
// SIGKILLs the victim and compares the second file with what it wrote. If U
// died with list_op_pending still set, the kernel stores FUTEX_OWNER_DIED
// into that file: silent corruption of an unrelated file.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rfutex::tool::repro {

enum class unlock_mode { glibc, rfutex, rfutex_kernel, rfutex_guarded };
enum class remap_mode { rfutex, libc, raw };

std::optional<unlock_mode> parse_unlock(std::string_view s);
std::optional<remap_mode> parse_remap(std::string_view s);
std::string_view name_of(unlock_mode m);
std::string_view name_of(remap_mode m);

// Shared between the tracer and the victim (a memfd both map).
struct control_block {
  // victim -> tracer
  std::uint32_t ready = 0;        // U holds the lock and waits for go_unlock
  std::uint32_t remap_done = 0;   // H finished the remap
  std::uint32_t u_tid = 0;
  std::uintptr_t lock_address = 0;   // the lock word, in the victim
  std::uintptr_t pending_slot = 0;   // &U's robust_list_head::list_op_pending
  std::uintptr_t vdso_begin = 0, vdso_end = 0;
  int remap_errno = 0;
  int setup_errno = 0;
  char strategy[16] = {};         // the strategy U unlocked with ("glibc" for glibc)
  std::uint32_t guard_loaded = 0; // librfutex-guard.so is in the victim
  char message[200] = {};
  // tracer -> victim
  std::uint32_t go_unlock = 0;
  std::uint32_t go_remap = 0;
};

struct word_change {
  std::size_t offset;
  std::uint32_t before, after;
};

struct run_evidence {
  bool completed = false;   // the window was reached and the victim killed
  std::string failure;      // why not, when !completed
  long steps = 0;           // single-steps until the word read 0
  std::uintptr_t ip = 0;    // U's ip when it was stopped there
  bool ip_in_vdso = false;
  std::uintptr_t pending_at_stop = 0;  // U's list_op_pending at that instant
  std::uintptr_t pending_at_kill = 0;  // ... after H's remap, when U's process was killed
  std::uint32_t word_before = 0, word_after = 0;  // the second file's word at the lock's offset
  std::vector<word_change> changes;    // every word of the second file that changed
  bool corrupted() const { return !changes.empty(); }
};

struct run_context {
  std::string strategy;  // what the victim used
  bool guard_loaded = false;
};

// One reproduction. `self` is this executable (re-executed as the victim).
run_evidence run_once(const std::string& self, unlock_mode unlock, remap_mode remap,
                      run_context& context);

// Whether the file should be corrupted, given what the victim used.
bool expect_corruption(unlock_mode unlock, remap_mode remap, const run_context& context);

// The victim side; entered through `rfutex __repro-victim ...`.
int victim_main(int argc, char* const* argv);

}  // namespace rfutex::tool::repro
