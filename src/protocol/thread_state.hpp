// SPDX-License-Identifier: MIT
// What a thread needs to run the lock protocol: its TID, the robust list it
// links into, and the unlock strategy. Cached in TLS on first use; a fork
// child starts over (new TID, fresh list).
#pragma once

#include <cstdint>

#include "../linux/robust_list.hpp"
#include "../linux/vdso.hpp"
#include "rfutex/capabilities.hpp"
#include "rfutex/strategy.hpp"

namespace rfutex::protocol {

// The robust list a thread's locks are linked into, and its shape.
//
// Nodes are addressed by their `next` field; every pointer in the list points
// at a `next` field (the head's is its first word). Where the list is doubly
// linked, a node's `prev` slot sits one pointer below its `next` and holds the
// untagged address of the previous `next` field — the layout glibc (x86_64)
// and musl use, so their unlink of their own mutexes keeps working beside ours.
struct list_host {
  sys::robust_list_head* head = nullptr;
  std::intptr_t node_offset = 0;    // node = lock word + node_offset (= -futex_offset)
  bool doubly_linked = false;       // every node has a prev slot
  bool head_has_prev_slot = false;  // ... and so does the head (glibc, rfutex)
  list_registrar registrar = list_registrar::none;
  bool supported = false;           // the node fits in rfutex's lock layout
  // Doubly linked with a prev slot at the head too (glibc x86_64, rfutex's
  // own head): the layout the inline fast path handles without branches.
  bool common_layout = false;
};

struct thread_state {
  std::uint32_t tid = 0;  // 0: not initialised on this thread (yet, or since fork)
  unlock_strategy strategy = unlock_strategy::guarded;
  sys::vdso_try_unlock_fn try_unlock = nullptr;  // set for unlock_strategy::kernel
  list_host host;
};

// Initial-exec TLS: a plain %fs-relative access on the hot path.
extern __thread thread_state tls_thread_state __attribute__((tls_model("initial-exec")));

// Fills in `s` for the calling thread; registers rfutex's own robust-list head
// if the thread has none. Throws std::system_error: the strategy errors of
// active_unlock_strategy(), ENOTSUP when the thread's list cannot hold rfutex
// nodes (a head of unknown layout).
void init_thread_state(thread_state& s);

// The calling thread's state, initialised on first use.
inline thread_state& current_thread() {
  thread_state& s = tls_thread_state;
  if (__builtin_expect(s.tid == 0, 0)) init_thread_state(s);
  return s;
}

// Describes the calling thread's list without registering anything.
list_host inspect_list(sys::robust_list_head* head);

}  // namespace rfutex::protocol
