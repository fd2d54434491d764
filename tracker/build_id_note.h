// A loaded module's GNU build-id, read from its PT_NOTE segments in memory
// (what dl_iterate_phdr gives): no file access, no allocation.
#pragma once

#include <elf.h>
#include <link.h>

#include <cstdint>
#include <cstring>

namespace nantrack {

// Copies the build-id to `out` and returns its length; 0 when the module
// has none or it is longer than `capacity`.
inline uint32_t read_build_id(const dl_phdr_info* info, uint8_t* out, size_t capacity) {
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& phdr = info->dlpi_phdr[i];
    if (phdr.p_type != PT_NOTE) continue;
    auto* note = reinterpret_cast<const char*>(info->dlpi_addr + phdr.p_vaddr);
    const char* end = note + phdr.p_memsz;
    while (note + sizeof(ElfW(Nhdr)) <= end) {
      auto* header = reinterpret_cast<const ElfW(Nhdr)*>(note);
      const char* name = note + sizeof(ElfW(Nhdr));
      const char* desc = name + ((header->n_namesz + 3) & ~3u);
      const char* next = desc + ((header->n_descsz + 3) & ~3u);
      if (next > end) break;
      if (header->n_type == NT_GNU_BUILD_ID && header->n_namesz == 4 && std::memcmp(name, "GNU", 4) == 0 &&
          header->n_descsz <= capacity) {
        std::memcpy(out, desc, header->n_descsz);
        return header->n_descsz;
      }
      note = next;
    }
  }
  return 0;
}

}  // namespace nantrack
