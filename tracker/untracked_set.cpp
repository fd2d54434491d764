#include "tracker/untracked_set.h"

#include "tracker/block_table.h"
#include "tracker/internal_memory.h"

namespace nantrack {

bool UntrackedSet::init(size_t capacity) {
  slots_ = static_cast<std::atomic<uintptr_t>*>(map_memory(capacity * sizeof(uintptr_t), true));
  if (!slots_) return false;
  mask_ = capacity - 1;
  return true;
}

// Blocks allocated one after another take slots one after another: a
// process's few hundred untracked blocks (most from loading libunwind)
// then touch a page or two of the 2 MiB table instead of one page each,
// every touch a page fault (50 of a short process's 250). Each 4 MiB of
// addresses starts at a hashed slot, so that blocks at the same offset of
// different 64 MiB heaps (thread arenas) do not pile up.
size_t UntrackedSet::home(uintptr_t address) const {
  constexpr unsigned kGranuleBits = 4, kSpanBits = 22;
  return ((address >> kGranuleBits) + hash_address(address >> kSpanBits)) & mask_;
}

bool UntrackedSet::insert(uintptr_t address) {
  if (!slots_) return false;
  // An address is in the set at most once (it is a live block), so the first
  // empty or removed slot on its probe path is a correct place for it.
  for (size_t probes = 0, i = home(address); probes <= mask_; ++probes, i = (i + 1) & mask_) {
    uintptr_t seen = slots_[i].load(std::memory_order_relaxed);
    while (seen == kEmpty || seen == kRemoved) {
      if (slots_[i].compare_exchange_weak(seen, address, std::memory_order_acq_rel)) return true;
    }
  }
  return false;
}

bool UntrackedSet::remove(uintptr_t address) {
  if (!slots_) return false;
  for (size_t probes = 0, i = home(address); probes <= mask_; ++probes, i = (i + 1) & mask_) {
    uintptr_t seen = slots_[i].load(std::memory_order_acquire);
    if (seen == kEmpty) return false;
    if (seen == address) return slots_[i].compare_exchange_strong(seen, kRemoved, std::memory_order_acq_rel);
  }
  return false;
}

bool UntrackedSet::contains(uintptr_t address) const {
  if (!slots_) return false;
  for (size_t probes = 0, i = home(address); probes <= mask_; ++probes, i = (i + 1) & mask_) {
    uintptr_t seen = slots_[i].load(std::memory_order_acquire);
    if (seen == kEmpty) return false;
    if (seen == address) return true;
  }
  return false;
}

}  // namespace nantrack
