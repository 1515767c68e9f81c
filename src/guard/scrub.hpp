// SPDX-License-Identifier: MIT
// The scrub itself, shared by the library API and librfutex-guard.so.
#pragma once

#include <cstddef>
#include <cstdint>

#include "../linux/robust_list.hpp"

namespace rfutex::guard {

// Clears `head`'s list_op_pending if it points at a futex word that overlaps
// [begin, end). Returns true if it cleared it.
bool scrub_head(sys::robust_list_head* head, std::uintptr_t begin, std::uintptr_t end) noexcept;

// Scrubs every registered thread. Returns how many slots it cleared.
std::size_t scrub_registered(std::uintptr_t begin, std::uintptr_t end) noexcept;

// `length` rounded up to whole pages: what munmap, mmap and mremap act on.
std::size_t page_round_up(std::size_t length) noexcept;

// Scrubs the pages a memory call on [address, address + length) acts on.
std::size_t scrub_pages(const void* address, std::size_t length) noexcept;

}  // namespace rfutex::guard
