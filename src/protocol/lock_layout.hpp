// SPDX-License-Identifier: MIT
// Where the parts of an rfutex lock sit relative to its futex word. The
// public headers fix the bytes (include/rfutex/detail/lock_storage.hpp); this
// file says which node positions those bytes can hold.
#pragma once

#include <cstddef>
#include <cstdint>

#include "rfutex/detail/lock_storage.hpp"

namespace rfutex::protocol {

inline constexpr std::intptr_t pointer_size = sizeof(void*);

// The list node is owned by the lock's current owner and placed where its
// thread's head says (node = word - futex_offset). These are the positions
// the storage reserves room for, relative to the word:
//   glibc x86_64  node +32, prev +24 (futex_offset -32)
//   musl  x86_64  node +28, prev +20 (futex_offset -28; 4-byte aligned only)
//   glibc i386    node +20, no prev  (futex_offset -20; singly linked)
//   musl  i386    node +12, prev  +8 (futex_offset -12)
//   rfutex's own head: node +32 / +20 with a prev slot below it.
inline constexpr std::intptr_t own_node_offset = pointer_size == 8 ? 32 : 20;

// True when a node at `node_offset` (with a prev slot below it if
// `doubly_linked`) lies inside the node area of the storage.
constexpr bool node_fits(std::intptr_t node_offset, bool doubly_linked) {
  constexpr std::intptr_t area_begin = offsetof(detail::lock_storage, node);
  constexpr std::intptr_t area_end = sizeof(detail::lock_storage);
  const std::intptr_t lowest = doubly_linked ? node_offset - pointer_size : node_offset;
  return lowest >= area_begin && node_offset + pointer_size <= area_end;
}

static_assert(pointer_size == 8 ? node_fits(32, true) && node_fits(28, true)
                                : node_fits(20, false) && node_fits(12, true));
static_assert(node_fits(own_node_offset, true));

}  // namespace rfutex::protocol
