// SPDX-License-Identifier: MIT
// Hashing of world.hpp's state (for the explorer's visited set).
#include "world.hpp"

namespace rfutex::model {

std::size_t state_hash::operator()(const state& s) const noexcept {
  // Every small field gets its own bits; the three 32-bit words are mixed in.
  std::uint64_t small = 0;
  auto put = [&small](std::uint64_t v, unsigned bits) { small = (small << bits) | v; };
  put(static_cast<std::uint64_t>(s.mapped), 1);
  put(s.pending, 1);
  put(s.linked, 1);
  put(static_cast<std::uint64_t>(s.where), 2);
  put(s.pc, 8);
  put(s.zf, 1);
  put(s.w3, 1);
  put(s.monitor, 1);
  put(static_cast<std::uint64_t>(s.other), 3);
  put(s.foreign_write, 1);
  put(s.lost_lock, 1);
  std::uint64_t h = small;
  const std::uint64_t words[] = {s.lock_word, s.file_word, s.acc};
  for (const std::uint64_t w : words) h = (h ^ w) * 0x100000001b3ull + (h >> 29);
  return static_cast<std::size_t>(h);
}

}  // namespace rfutex::model
