// SPDX-License-Identifier: MIT
#include "scrub.hpp"

#include <unistd.h>

#include "thread_registry.hpp"

namespace rfutex::guard {

bool scrub_head(sys::robust_list_head* head, std::uintptr_t begin, std::uintptr_t end) noexcept {
  if (head == nullptr) return false;
  // relaxed: the program's own chain (the unlocker's release of the word ->
  // ... -> this thread deciding to unmap) already makes the unlocker's
  // pending store visible here.
  sys::robust_list* pending = __atomic_load_n(&head->list_op_pending, __ATOMIC_RELAXED);
  if (pending == nullptr) return false;
  const auto entry = reinterpret_cast<std::uintptr_t>(pending) & ~sys::robust_entry_pi;
  const std::uintptr_t word = entry + static_cast<std::uintptr_t>(head->futex_offset);
  if (word + sizeof(std::uint32_t) <= begin || word >= end) return false;
  // From that exact value to 0: if the owner has moved on to another lock
  // meanwhile, its new pointer stays. relaxed: the CAS itself is the only
  // effect anyone depends on (the kernel reads the slot only after the
  // owner's death, which is ordered after this by the death itself).
  return __atomic_compare_exchange_n(&head->list_op_pending, &pending, nullptr, false,
                                     __ATOMIC_RELAXED, __ATOMIC_RELAXED);
}

std::size_t scrub_registered(std::uintptr_t begin, std::uintptr_t end) noexcept {
  std::size_t cleared = 0;
  if (end <= begin) return 0;
  for_each_registered_head([&](sys::robust_list_head* head) {
    if (scrub_head(head, begin, end)) ++cleared;
  });
  return cleared;
}

std::size_t page_round_up(std::size_t length) noexcept {
  const auto page = static_cast<std::size_t>(::getpagesize());
  return (length + page - 1) & ~(page - 1);
}

std::size_t scrub_pages(const void* address, std::size_t length) noexcept {
  const auto begin = reinterpret_cast<std::uintptr_t>(address);
  return scrub_registered(begin, begin + page_round_up(length));
}

}  // namespace rfutex::guard
