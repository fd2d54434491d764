// Memory for the tracker's own data. It never comes from the allocator being
// watched: everything is mmap'd, so the tracker can run inside any malloc call.
#pragma once

#include <cstddef>
#include <cstdint>

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

// Every mapping above is listed until it is unmapped, so that the leak
// scan can tell the program's own mappings from ours, which hold the
// address of every block. Copies up to `capacity` of them into `ranges`
// ({start, end} pairs, in no order) and returns how many there are; 0 with
// `complete` false when some went unlisted (the list was full).
struct OwnMapping {
  uintptr_t start;
  uintptr_t end;
};
size_t list_own_mappings(OwnMapping* ranges, size_t capacity, bool& complete);

inline constexpr size_t kPageSize = 4096;
constexpr size_t round_up_to_page(size_t bytes) { return (bytes + kPageSize - 1) & ~(kPageSize - 1); }

// `count` zeroed elements in memory of their own, for code that may not
// call malloc (the leak scan); empty if it cannot be mapped.
template <typename T>
class MappedArray {
 public:
  explicit MappedArray(size_t count) : data_(static_cast<T*>(map_memory(count * sizeof(T)))), count_(count) {}
  ~MappedArray() { unmap_memory(data_, count_ * sizeof(T)); }
  MappedArray(const MappedArray&) = delete;
  MappedArray& operator=(const MappedArray&) = delete;
  explicit operator bool() const { return data_ != nullptr; }
  T& operator[](size_t i) { return data_[i]; }
  T* data() { return data_; }
  size_t size() const { return data_ ? count_ : 0; }

 private:
  T* data_;
  size_t count_;
};

}  // namespace nantrack
