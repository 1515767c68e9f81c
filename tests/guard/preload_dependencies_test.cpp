// SPDX-License-Identifier: MIT
// librfutex-guard.so is loaded into every process of a program it guards, so
// it must depend on libc alone: no libstdc++, libgcc_s or libm (each adds
// start-up time to every process). Read from its ELF dynamic section.
#include <elf.h>
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "sanitizer_build.hpp"
#include "process.hpp"

namespace {

// The DT_NEEDED entries of a 64-bit ELF shared object, or an error text.
std::vector<std::string> needed_libraries(const std::string& path, std::string& error) {
  std::ifstream in(path, std::ios::binary);
  const std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::string> needed;
  if (bytes.size() < sizeof(Elf64_Ehdr) || std::memcmp(bytes.data(), ELFMAG, SELFMAG) != 0 ||
      bytes[EI_CLASS] != ELFCLASS64) {
    error = "not a 64-bit ELF file: " + path;
    return needed;
  }
  const auto* eh = reinterpret_cast<const Elf64_Ehdr*>(bytes.data());
  const auto* sections = reinterpret_cast<const Elf64_Shdr*>(bytes.data() + eh->e_shoff);
  for (int i = 0; i < eh->e_shnum; ++i) {
    if (sections[i].sh_type != SHT_DYNAMIC) continue;
    const char* strings = bytes.data() + sections[sections[i].sh_link].sh_offset;
    const auto* dyn = reinterpret_cast<const Elf64_Dyn*>(bytes.data() + sections[i].sh_offset);
    for (std::size_t k = 0; k < sections[i].sh_size / sizeof(Elf64_Dyn); ++k)
      if (dyn[k].d_tag == DT_NEEDED) needed.emplace_back(strings + dyn[k].d_un.d_val);
  }
  if (needed.empty()) error = "no DT_NEEDED entry found in " + path;
  return needed;
}

TEST(PreloadDependencies, OnlyLibc) {
#if defined(RFUTEX_STATIC_BUILD)
  GTEST_SKIP() << "static build: there is no librfutex-guard.so";
#endif
#if defined(RFUTEX_TEST_ASAN) || defined(RFUTEX_TEST_TSAN)
  GTEST_SKIP() << "a sanitizer build links its runtime into every library";
#endif
  if (sizeof(void*) != 8) GTEST_SKIP() << "reads 64-bit ELF only";
  std::string error;
  const auto needed = needed_libraries(rfutex::test::build_tree_path("src/librfutex-guard.so"), error);
  ASSERT_EQ(error, "");
  EXPECT_EQ(needed, std::vector<std::string>{"libc.so.6"});
}

}  // namespace
