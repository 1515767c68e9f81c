// SPDX-License-Identifier: MIT
#include "kernel_view.hpp"

#include <algorithm>

#include "linux/robust_list.hpp"

namespace rfutex::test {

kernel_list_view view_own_robust_list() {
  kernel_list_view v;
  sys::robust_list_head* head = nullptr;
  std::size_t len = 0;
  if (sys::get_robust_list(0, &head, &len) != 0 || head == nullptr) {
    v.well_formed = false;
    return v;
  }
  const auto head_addr = reinterpret_cast<std::uintptr_t>(head);
  auto entry = reinterpret_cast<std::uintptr_t>(head->list.next);
  for (int i = 0; i < 2048; ++i) {
    const std::uintptr_t node = entry & ~sys::robust_entry_pi;
    if (node == head_addr) break;
    if (node == 0 || i == 2047) {
      v.well_formed = false;
      break;
    }
    v.words.push_back(reinterpret_cast<const std::uint32_t*>(node + static_cast<std::uintptr_t>(head->futex_offset)));
    v.pi.push_back((entry & sys::robust_entry_pi) != 0);
    entry = reinterpret_cast<std::uintptr_t>(reinterpret_cast<sys::robust_list*>(node)->next);
  }
  const auto pending = reinterpret_cast<std::uintptr_t>(head->list_op_pending);
  if (pending != 0)
    v.pending_word = reinterpret_cast<const void*>((pending & ~sys::robust_entry_pi) +
                                                   static_cast<std::uintptr_t>(head->futex_offset));
  return v;
}

bool holds_exactly(const kernel_list_view& view, std::vector<const std::uint32_t*> expected) {
  auto got = view.words;
  std::sort(got.begin(), got.end());
  std::sort(expected.begin(), expected.end());
  return view.well_formed && got == expected;
}

}  // namespace rfutex::test
