// SPDX-License-Identifier: MIT
#include "vdso.hpp"

#include <elf.h>
#include <link.h>  // ElfW()
#include <sys/auxv.h>

#include <cstdint>
#include <cstring>

namespace rfutex::sys {

namespace {

// The parts of the vDSO's dynamic section a lookup needs.
struct vdso_tables {
  vdso_image image;
  std::uintptr_t load_offset = 0;  // add to a link-time address to get a pointer
  const ElfW(Sym)* symtab = nullptr;
  const char* strtab = nullptr;
  std::size_t symbol_count = 0;
};

template <class T>
const T* at(std::uintptr_t address) {
  return reinterpret_cast<const T*>(address);
}

// Number of symbols from a DT_GNU_HASH table: one past the highest index
// reachable from any bucket (the table has no explicit count).
std::size_t gnu_hash_symbol_count(const std::uint32_t* table) {
  const std::uint32_t nbuckets = table[0];
  const std::uint32_t symoffset = table[1];
  const std::uint32_t bloom_size = table[2];
  const auto* bloom_end = reinterpret_cast<const unsigned char*>(table + 4) +
                          bloom_size * sizeof(ElfW(Addr));
  const auto* buckets = reinterpret_cast<const std::uint32_t*>(bloom_end);
  const std::uint32_t* chain = buckets + nbuckets;
  std::uint32_t last = 0;
  for (std::uint32_t b = 0; b < nbuckets; ++b)
    if (buckets[b] > last) last = buckets[b];
  if (last < symoffset) return symoffset;
  while ((chain[last - symoffset] & 1u) == 0) ++last;  // bit 0 ends a chain
  return last + 1;
}

vdso_tables parse() {
  vdso_tables t;
  const auto base = static_cast<std::uintptr_t>(getauxval(AT_SYSINFO_EHDR));
  if (base == 0) return t;
  const auto* ehdr = at<ElfW(Ehdr)>(base);
  if (std::memcmp(ehdr->e_ident, ELFMAG, SELFMAG) != 0 ||
      ehdr->e_ident[EI_CLASS] != (sizeof(void*) == 8 ? ELFCLASS64 : ELFCLASS32))
    return t;

  const auto* phdrs = at<ElfW(Phdr)>(base + ehdr->e_phoff);
  const ElfW(Dyn)* dynamic = nullptr;
  bool have_load = false;
  for (std::size_t i = 0; i < ehdr->e_phnum; ++i) {
    const auto& ph = phdrs[i];
    if (ph.p_type == PT_LOAD && !have_load) {
      // The vDSO is mapped as one image: its first PT_LOAD tells how
      // link-time addresses map to where the kernel put it.
      t.load_offset = base + ph.p_offset - ph.p_vaddr;
      t.image.text_size = ph.p_memsz;
      have_load = true;
    } else if (ph.p_type == PT_DYNAMIC) {
      dynamic = at<ElfW(Dyn)>(base + ph.p_offset);
    }
  }
  if (!have_load || dynamic == nullptr) return t;

  const std::uint32_t* sysv_hash = nullptr;
  const std::uint32_t* gnu_hash = nullptr;
  for (const auto* d = dynamic; d->d_tag != DT_NULL; ++d) {
    const std::uintptr_t p = t.load_offset + d->d_un.d_ptr;
    switch (d->d_tag) {
      case DT_SYMTAB: t.symtab = at<ElfW(Sym)>(p); break;
      case DT_STRTAB: t.strtab = at<char>(p); break;
      case DT_HASH: sysv_hash = at<std::uint32_t>(p); break;
      case DT_GNU_HASH: gnu_hash = at<std::uint32_t>(p); break;
      default: break;
    }
  }
  if (t.symtab == nullptr || t.strtab == nullptr) return t;
  if (sysv_hash != nullptr)
    t.symbol_count = sysv_hash[1];  // nchain == number of symbols
  else if (gnu_hash != nullptr)
    t.symbol_count = gnu_hash_symbol_count(gnu_hash);
  t.image.base = at<void>(base);
  return t;
}

const vdso_tables& tables() noexcept {
  static const vdso_tables t = parse();
  return t;
}

}  // namespace

const vdso_image& vdso() noexcept { return tables().image; }

const void* vdso_symbol(std::string_view name) noexcept {
  const auto& t = tables();
  for (std::size_t i = 0; i < t.symbol_count; ++i) {
    const ElfW(Sym)& s = t.symtab[i];
    if (s.st_shndx == SHN_UNDEF || s.st_value == 0) continue;
    const unsigned type = ELF32_ST_TYPE(s.st_info);
    if (type != STT_FUNC && type != STT_NOTYPE) continue;
    if (std::string_view(t.strtab + s.st_name) == name)
      return reinterpret_cast<const void*>(t.load_offset + s.st_value);
  }
  return nullptr;
}

}  // namespace rfutex::sys
