#include "tracker/internal_memory.h"

#include <atomic>

#include <sys/mman.h>

#include "tracker/sandbox.h"

namespace nantrack {

namespace {

// Our mappings by start address: open addressing with linear probing,
// lock-free, as maps and unmaps come from any thread, also while the leak
// scan has the others stopped. A removed entry leaves a tombstone, so that
// a lookup stops only at a slot never used.
class OwnMappings {
 public:
  void add(uintptr_t start, size_t length) {
    Slot* slots = table();
    if (!slots) return;
    for (size_t probe = 0, i = home(start); probe < kSlots; ++probe, i = (i + 1) & (kSlots - 1)) {
      uintptr_t seen = slots[i].start.load(std::memory_order_relaxed);
      while (seen == kEmpty || seen == kRemoved) {
        if (slots[i].start.compare_exchange_weak(seen, start, std::memory_order_relaxed)) {
          slots[i].length.store(length, std::memory_order_release);
          return;
        }
      }
    }
    full_.store(true, std::memory_order_relaxed);
  }

  void remove(uintptr_t start) {
    Slot* slots = slots_.load(std::memory_order_acquire);
    if (!slots) return;
    for (size_t probe = 0, i = home(start); probe < kSlots; ++probe, i = (i + 1) & (kSlots - 1)) {
      const uintptr_t seen = slots[i].start.load(std::memory_order_relaxed);
      if (seen == kEmpty) return;
      if (seen != start) continue;
      slots[i].length.store(0, std::memory_order_relaxed);
      slots[i].start.store(kRemoved, std::memory_order_release);
      return;
    }
  }

  size_t list(OwnMapping* ranges, size_t capacity, bool& complete) const {
    Slot* slots = slots_.load(std::memory_order_acquire);
    complete = slots && !full_.load(std::memory_order_relaxed);
    if (!complete) return 0;
    size_t count = 0;
    for (size_t i = 0; i < kSlots; ++i) {
      const uintptr_t start = slots[i].start.load(std::memory_order_acquire);
      const size_t length = slots[i].length.load(std::memory_order_acquire);
      if (start == kEmpty || start == kRemoved || length == 0) continue;
      if (count < capacity) ranges[count] = {start, start + length};
      ++count;
    }
    return count;
  }

 private:
  struct Slot {
    std::atomic<uintptr_t> start;
    std::atomic<size_t> length;
  };
  // A thread creates about six mappings of ours: room for a thousand
  // threads and more. 256 KiB: under a tight address-space limit
  // (ulimit -v) every mapping counts.
  static constexpr unsigned kSlotBits = 14;
  static constexpr size_t kSlots = size_t{1} << kSlotBits;
  static constexpr uintptr_t kEmpty = 0, kRemoved = 1;

  static size_t home(uintptr_t start) { return ((start >> 12) * 0x9e3779b97f4a7c15ull) >> (64 - kSlotBits); }

  // Mapped at the first mapping of ours, and listed in itself.
  Slot* table() {
    Slot* slots = slots_.load(std::memory_order_acquire);
    if (slots) return slots;
    const size_t bytes = round_up_to_page(kSlots * sizeof(Slot));
    void* fresh = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (fresh == MAP_FAILED) {
      full_.store(true, std::memory_order_relaxed);
      return nullptr;
    }
    if (!slots_.compare_exchange_strong(slots, static_cast<Slot*>(fresh), std::memory_order_acq_rel)) {
      munmap(fresh, bytes);  // another thread's came first
      return slots;
    }
    add(reinterpret_cast<uintptr_t>(fresh), bytes);
    return static_cast<Slot*>(fresh);
  }

  std::atomic<Slot*> slots_{nullptr};
  std::atomic<bool> full_{false};
};

constinit OwnMappings g_own_mappings;

void* map(size_t bytes, bool reserve_only, bool populate) {
  const size_t length = round_up_to_page(bytes);
  void* address = mmap(nullptr, length, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | (reserve_only ? MAP_NORESERVE : 0), -1, 0);
  if (address == MAP_FAILED) return nullptr;
  g_own_mappings.add(reinterpret_cast<uintptr_t>(address), length);
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
  if (address == MAP_FAILED) return nullptr;
  g_own_mappings.add(reinterpret_cast<uintptr_t>(address), round_up_to_page(bytes));
  return address;
}

bool commit_memory(void* address, size_t bytes) {
  return mprotect(address, round_up_to_page(bytes), PROT_READ | PROT_WRITE) == 0;
}

void unmap_memory(void* address, size_t bytes) {
  if (!address) return;
  g_own_mappings.remove(reinterpret_cast<uintptr_t>(address));
  munmap(address, round_up_to_page(bytes));
}

size_t list_own_mappings(OwnMapping* ranges, size_t capacity, bool& complete) {
  return g_own_mappings.list(ranges, capacity, complete);
}

}  // namespace nantrack
