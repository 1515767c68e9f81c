// SPDX-License-Identifier: MIT
#include "remap.hpp"

#include <sys/mman.h>

#include <cstdint>

#include "scrub.hpp"

#if !defined(MREMAP_DONTUNMAP)
#define MREMAP_DONTUNMAP 4
#endif

namespace rfutex::guard {

namespace {

void scrub(std::uintptr_t begin, std::uintptr_t end) { (void)scrub_registered(begin, end); }

}  // namespace

void* guarded_mremap(mremap_call call, void* old_address, std::size_t old_length,
                     std::size_t new_length, int flags, void* new_address) noexcept {
  const auto old_begin = reinterpret_cast<std::uintptr_t>(old_address);
  const std::uintptr_t old_end = old_begin + page_round_up(old_length);
  const std::uintptr_t new_end = old_begin + page_round_up(new_length);
  if ((flags & (MREMAP_FIXED | MREMAP_DONTUNMAP)) != 0) {
    // Always a move: the old range goes (DONTUNMAP leaves it mapped but
    // empties it), and FIXED first unmaps whatever is at the target.
    if ((flags & MREMAP_FIXED) != 0) {
      const auto target = reinterpret_cast<std::uintptr_t>(new_address);
      scrub(target, target + page_round_up(new_length));
    }
    scrub(old_begin, old_end);
    return call(old_address, old_length, new_length, flags, new_address);
  }
  // old_length 0 duplicates a shared mapping, a length 0 is refused: nothing goes.
  if (old_length == 0 || new_length == 0)
    return call(old_address, old_length, new_length, flags, new_address);
  if (new_end <= old_end) {
    // Shrinks are done in place, even with MREMAP_MAYMOVE.
    scrub(new_end, old_end);
    return call(old_address, old_length, new_length, flags, new_address);
  }
  if ((flags & MREMAP_MAYMOVE) == 0)  // grows in place or fails: nothing goes
    return call(old_address, old_length, new_length, flags, new_address);
  void* in_place = call(old_address, old_length, new_length, flags & ~MREMAP_MAYMOVE, new_address);
  if (in_place != MAP_FAILED) return in_place;
  scrub(old_begin, old_end);  // it may move now
  return call(old_address, old_length, new_length, flags, new_address);
}

}  // namespace rfutex::guard
