// SPDX-License-Identifier: MIT
// The threads whose list_op_pending the unmap guard scrubs. A thread enters
// when it first uses rfutex (or, under librfutex-guard.so, when it starts),
// leaves at its exit, before its robust-list head can be freed, and in a fork
// child the thread that forked is entered at once (glibc has registered its
// robust list again by then).
//
// The registry is one dense array of head pointers: a scrub reads it front to
// back and loads each head's list_op_pending, independent loads the CPU issues
// together, instead of walking a linked list one cold miss after another.
// Registering never calls malloc (the array grows with raw mmap), so the
// guard can run inside an interposed munmap called by malloc. Written without
// exceptions, RTTI or libstdc++ runtime support: librfutex-guard.so is built
// from it and depends on libc alone.
#pragma once

#include <cstddef>

#include "../linux/robust_list.hpp"

namespace rfutex::guard {

// Adds the calling thread with its current robust-list head, or updates the
// head if it is there already. Arranges removal at thread exit. A thread the
// registry cannot hold (no memory for a larger array) stays out: false.
bool register_current_thread(sys::robust_list_head* head) noexcept;

// Calls f(head) for every registered thread, under the registry's lock.
template <class F>
void for_each_registered_head(F&& f);

std::size_t registered_count() noexcept;

// --- implementation details -------------------------------------------
struct registered_heads {
  sys::robust_list_head* const* heads;
  std::size_t count;
};
registered_heads lock_registry() noexcept;
void unlock_registry() noexcept;

template <class F>
void for_each_registered_head(F&& f) {
  const registered_heads r = lock_registry();
  for (std::size_t i = 0; i < r.count; ++i) f(r.heads[i]);
  unlock_registry();
}

}  // namespace rfutex::guard
