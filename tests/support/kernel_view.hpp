// SPDX-License-Identifier: MIT
// The calling thread's robust list as the kernel would walk it at death:
// follow `next` from the registered head, entry + futex_offset is a word.
#pragma once

#include <cstdint>
#include <vector>

namespace rfutex::test {

struct kernel_list_view {
  std::vector<const std::uint32_t*> words;  // in list order
  std::vector<bool> pi;                     // bit 0 of each entry
  const void* pending_word = nullptr;       // list_op_pending + futex_offset, or nullptr
  bool well_formed = true;                  // ended at the head within the kernel's limit
};

kernel_list_view view_own_robust_list();

// True when `words` of the view are exactly `expected`, in any order.
bool holds_exactly(const kernel_list_view& view, std::vector<const std::uint32_t*> expected);

}  // namespace rfutex::test
