#include "tracker/internal_memory.h"

#include <sys/mman.h>

namespace nantrack {

void* map_memory(size_t bytes, bool reserve_only) {
  int flags = MAP_PRIVATE | MAP_ANONYMOUS | (reserve_only ? MAP_NORESERVE : 0);
  void* address = mmap(nullptr, round_up_to_page(bytes), PROT_READ | PROT_WRITE, flags, -1, 0);
  if (address == MAP_FAILED) return nullptr;
  // Large tables are probed at random: 2 MiB pages save a TLB miss per probe
  // where transparent huge pages are available (madvise mode).
  constexpr size_t kHugePage = size_t{2} << 20;
  if (!reserve_only && bytes >= 4 * kHugePage) madvise(address, round_up_to_page(bytes), MADV_HUGEPAGE);
  return address;
}

void unmap_memory(void* address, size_t bytes) {
  if (address) munmap(address, round_up_to_page(bytes));
}

}  // namespace nantrack
