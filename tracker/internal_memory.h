// Memory for the tracker's own data. It never comes from the allocator being
// watched: everything is mmap'd, so the tracker can run inside any malloc call.
#pragma once

#include <cstddef>

namespace nantrack {

// Anonymous, zero-filled, private pages; nullptr on failure. With `reserve_only`
// the range is MAP_NORESERVE: address space now, memory only when touched.
void* map_memory(size_t bytes, bool reserve_only = false);
// For memory about to be written all over (a table being rehashed into):
// faulted in by the one system call instead of a page fault per page
// (3 million live blocks: a tenth of the time went to faulting in tables).
void* map_populated_memory(size_t bytes);
void unmap_memory(void* address, size_t bytes);
// Address space only, inaccessible until committed: where overcommit is
// strict (vm.overcommit_memory=2) even MAP_NORESERVE memory counts against
// the system's commit limit, and a large reservation would take the
// memory every other process may allocate. nullptr on failure.
void* reserve_address_space(size_t bytes);
// Makes [address, address + bytes) of a reservation readable and writable
// (zero-filled); false if the commit limit refuses it. Committing a range
// again is harmless.
bool commit_memory(void* address, size_t bytes);
// For memory filled a little at a time by each of many threads: where
// transparent huge pages are always on, a first touch would otherwise bring
// in a whole 2 MiB page.
void prefer_small_pages(void* address, size_t bytes);

inline constexpr size_t kPageSize = 4096;
constexpr size_t round_up_to_page(size_t bytes) { return (bytes + kPageSize - 1) & ~(kPageSize - 1); }

}  // namespace nantrack
