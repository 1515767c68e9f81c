// The threads whose list_op_pending the unmap guard scrubs. A thread enters
// when it first uses rfutex (or, under librfutex-guard.so, when it starts) and
// leaves at its exit, before its robust-list head can be freed. Nodes live in
// the thread's TLS: registering never allocates, so the guard can run inside
// an interposed munmap called by malloc.
#pragma once

#include <cstddef>

#include "../linux/robust_list.hpp"

namespace rfutex::guard {

struct registry_node {
  sys::robust_list_head* head = nullptr;
  registry_node* next = nullptr;
  registry_node* prev = nullptr;
  bool registered = false;
};

// Adds the calling thread (its TLS node) with its current robust-list head, or
// updates the head if it is there already. Arranges removal at thread exit.
void register_current_thread(sys::robust_list_head* head) noexcept;

// Calls f(head) for every registered thread, under the registry's lock.
template <class F>
void for_each_registered_head(F&& f);

std::size_t registered_count() noexcept;

// --- implementation details -------------------------------------------
void lock_registry() noexcept;
void unlock_registry() noexcept;
registry_node* registry_first() noexcept;

template <class F>
void for_each_registered_head(F&& f) {
  lock_registry();
  for (registry_node* n = registry_first(); n != nullptr; n = n->next) f(n->head);
  unlock_registry();
}

}  // namespace rfutex::guard
