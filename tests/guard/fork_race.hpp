// SPDX-License-Identifier: MIT
// Shared between fork_race_test (the tracer) and rfutex_fork_victim: a memfd
// both map.
#pragma once

#include <cstdint>

namespace rfutex::test {

struct fork_race_control {
  // victim -> tracer
  std::uint32_t ready = 0;       // U holds the lock and spins until go_unlock
  std::uint32_t remap_done = 0;  // H has unmapped the lock's page and mapped file B there
  std::int32_t u_tid = 0;        // U: the thread that forked, the child's first thread
  std::uint32_t registered = 0;  // rfutex_guard_registered_threads() with U and H alive
  std::uint32_t threads = 0;     // entries of /proc/self/task then
  std::int32_t remap_errno = 0;
  std::int32_t setup_errno = 0;
  std::uint64_t pending_slot = 0;  // &U's robust_list_head::list_op_pending
  // tracer -> victim
  std::uint32_t go_unlock = 0;
  std::uint32_t go_remap = 0;
};

}  // namespace rfutex::test
