#include "tracker/internal_memory.h"

#include <sys/mman.h>

#include "tracker/sandbox.h"

namespace nantrack {

namespace {
void* map(size_t bytes, bool reserve_only, bool populate) {
  const size_t length = round_up_to_page(bytes);
  void* address = mmap(nullptr, length, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | (reserve_only ? MAP_NORESERVE : 0), -1, 0);
  if (address == MAP_FAILED) return nullptr;
  // Large tables are probed at random: 2 MiB pages save a TLB miss per probe
  // where transparent huge pages are available (madvise mode).
  constexpr size_t kHugePage = size_t{2} << 20;
  // None of this advice in a seccomp sandbox (sandbox.h): it is only speed.
  if (in_sandbox()) return address;
  if (!reserve_only && bytes >= 4 * kHugePage) madvise(address, length, MADV_HUGEPAGE);
  // After the advice, so that huge pages are what gets faulted in. Kernels
  // before 5.14 refuse it: the pages then come one fault at a time.
  if (populate) madvise(address, length, MADV_POPULATE_WRITE);
  return address;
}
}  // namespace

void* map_memory(size_t bytes, bool reserve_only) { return map(bytes, reserve_only, false); }

void* map_populated_memory(size_t bytes) { return map(bytes, false, true); }

void prefer_small_pages(void* address, size_t bytes) {
  if (address && !in_sandbox()) madvise(address, round_up_to_page(bytes), MADV_NOHUGEPAGE);
}

void* reserve_address_space(size_t bytes) {
  void* address = mmap(nullptr, round_up_to_page(bytes), PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  return address == MAP_FAILED ? nullptr : address;
}

bool commit_memory(void* address, size_t bytes) {
  return mprotect(address, round_up_to_page(bytes), PROT_READ | PROT_WRITE) == 0;
}

void unmap_memory(void* address, size_t bytes) {
  if (address) munmap(address, round_up_to_page(bytes));
}

}  // namespace nantrack
