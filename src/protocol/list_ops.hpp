// SPDX-License-Identifier: MIT
// Linking and unlinking a lock's node in the owner's robust list, and the
// list_op_pending slot.
//
// Who reads what, and why the accesses look the way they do:
// - The nodes and the head's `next` are written only by the owning thread and
//   read by the kernel only when that thread dies — i.e. while it is stopped
//   at an instruction boundary. So each store must be one instruction (never
//   torn) and stay in program order; nothing else is needed. On x86 a store
//   is a single `mov` (also for musl's 4-byte-aligned nodes) with a compiler
//   barrier.
// - list_op_pending is also read and cleared (compare-and-swap) by rfutex's
//   unmap guard on *other* threads, so it is accessed atomically.
#pragma once

#include <cstdint>

#include "lock_layout.hpp"
#include "thread_state.hpp"

namespace rfutex::protocol {

// Keeps the compiler from moving memory accesses across this point. The
// kernel observes this thread's list only at an instruction boundary of this
// thread, so program order is all that matters for it.
inline void compiler_barrier() noexcept { asm volatile("" ::: "memory"); }

inline std::uintptr_t load_slot(std::uintptr_t address) noexcept {
  std::uintptr_t v;
#if defined(__x86_64__) || defined(__i386__)
  asm volatile("mov (%1), %0" : "=r"(v) : "r"(address) : "memory");
#else
  v = __atomic_load_n(reinterpret_cast<std::uintptr_t*>(address), __ATOMIC_RELAXED);
#endif
  return v;
}

inline void store_slot(std::uintptr_t address, std::uintptr_t value) noexcept {
#if defined(__x86_64__) || defined(__i386__)
  asm volatile("mov %1, (%0)" : : "r"(address), "r"(value) : "memory");
#else
  __atomic_store_n(reinterpret_cast<std::uintptr_t*>(address), value, __ATOMIC_RELAXED);
  compiler_barrier();
#endif
}

inline std::uintptr_t untag(std::uintptr_t entry) noexcept {
  return entry & ~sys::robust_entry_pi;
}

inline std::uintptr_t head_address(const list_host& h) noexcept {
  return reinterpret_cast<std::uintptr_t>(h.head);  // &head->list.next
}

inline std::uintptr_t node_of(const std::uint32_t* word, const list_host& h) noexcept {
  return reinterpret_cast<std::uintptr_t>(word) + static_cast<std::uintptr_t>(h.node_offset);
}

inline std::uintptr_t* pending_slot(const list_host& h) noexcept {
  return reinterpret_cast<std::uintptr_t*>(&h.head->list_op_pending);
}

// Relaxed: the kernel needs only program order (barrier); the unmap guard
// learns of this store through the release of the lock word that follows it.
inline void set_pending(const list_host& h, std::uintptr_t entry) noexcept {
  __atomic_store_n(&h.head->list_op_pending, reinterpret_cast<sys::robust_list*>(entry),
                   __ATOMIC_RELAXED);
  compiler_barrier();
}

// Relaxed: nobody waits for this store; it only stops the kernel (and the
// guard) from acting on a lock we are done with.
inline void clear_pending(const list_host& h) noexcept {
  compiler_barrier();
  __atomic_store_n(&h.head->list_op_pending, nullptr, __ATOMIC_RELAXED);
}

// Inserts `node` at the front of the list. The kernel walks `next` only, so
// the node becomes visible to it with the final store, fully formed.
inline void link_node(const list_host& h, std::uintptr_t node, std::uintptr_t tag) noexcept {
  const std::uintptr_t head = head_address(h);
  const std::uintptr_t first = load_slot(head);  // tagged
  store_slot(node, first);
  if (h.doubly_linked) {
    store_slot(node - pointer_size, head);
    const std::uintptr_t first_node = untag(first);
    if (first_node != head || h.head_has_prev_slot) store_slot(first_node - pointer_size, node);
  }
  store_slot(head, node | tag);
}

// Removes `node`. After every single store the forward chain from the head is
// intact, either with or without the node.
inline void unlink_node(const list_host& h, std::uintptr_t node) noexcept {
  const std::uintptr_t head = head_address(h);
  const std::uintptr_t next = load_slot(node);  // tagged
  if (h.doubly_linked) {
    const std::uintptr_t prev = load_slot(node - pointer_size);  // untagged
    store_slot(prev, next);
    const std::uintptr_t next_node = untag(next);
    if (next_node != head || h.head_has_prev_slot) store_slot(next_node - pointer_size, prev);
    return;
  }
  // Singly linked (glibc i386): find the predecessor. The kernel gives up
  // after ROBUST_LIST_LIMIT entries; so do we, rather than loop on a cycle.
  std::uintptr_t at = head;
  for (int hops = 0; hops < 2048; ++hops) {
    const std::uintptr_t entry = load_slot(at);
    const std::uintptr_t target = untag(entry);
    if (target == node) {
      store_slot(at, next);
      return;
    }
    if (target == head || target == 0) return;
    at = target;
  }
}

// link_node / unlink_node for the common layout (list_host::common_layout):
// the same stores in the same order, without the layout branches.
inline void link_node_common(std::uintptr_t head, std::uintptr_t node, std::uintptr_t tag) noexcept {
  const std::uintptr_t first = load_slot(head);  // tagged
  store_slot(node, first);
  store_slot(node - pointer_size, head);
  store_slot(untag(first) - pointer_size, node);
  store_slot(head, node | tag);
}

inline void unlink_node_common(std::uintptr_t node) noexcept {
  const std::uintptr_t next = load_slot(node);                 // tagged
  const std::uintptr_t prev = load_slot(node - pointer_size);  // untagged
  store_slot(prev, next);
  store_slot(untag(next) - pointer_size, prev);
}

}  // namespace rfutex::protocol
