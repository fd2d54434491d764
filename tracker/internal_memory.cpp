#include "tracker/internal_memory.h"

#include <sys/mman.h>

namespace nantrack {

void* map_memory(size_t bytes, bool reserve_only) {
  int flags = MAP_PRIVATE | MAP_ANONYMOUS | (reserve_only ? MAP_NORESERVE : 0);
  void* address = mmap(nullptr, round_up_to_page(bytes), PROT_READ | PROT_WRITE, flags, -1, 0);
  return address == MAP_FAILED ? nullptr : address;
}

void unmap_memory(void* address, size_t bytes) {
  if (address) munmap(address, round_up_to_page(bytes));
}

}  // namespace nantrack
