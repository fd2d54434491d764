// Addresses of blocks handed out while the tracker was re-entered: our own
// helpers' allocations (libunwind, dlsym, dl_iterate_phdr) and those of a
// signal handler that interrupted us. They are not the program's leaks, but
// they are real blocks: when one comes back to free() it must reach libc,
// not be reported as an invalid free. Lock-free (it is used exactly where a
// lock may already be held), fixed capacity, reserved lazily.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace nantrack {

class UntrackedSet {
 public:
  constexpr UntrackedSet() = default;
  UntrackedSet(const UntrackedSet&) = delete;
  UntrackedSet& operator=(const UntrackedSet&) = delete;

  bool init(size_t capacity = size_t{1} << 18);  // power of two
  // False when full: the block then cannot be recognised later.
  bool insert(uintptr_t address);
  // True if the address was present (and is now removed).
  bool remove(uintptr_t address);
  bool contains(uintptr_t address) const;

 private:
  static constexpr uintptr_t kEmpty = 0;
  static constexpr uintptr_t kRemoved = 1;  // tombstone; reused by insert
  size_t home(uintptr_t address) const;

  std::atomic<uintptr_t>* slots_ = nullptr;
  size_t mask_ = 0;
};

}  // namespace nantrack
