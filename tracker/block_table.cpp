#include "tracker/block_table.h"

#include "tracker/internal_memory.h"

namespace nantrack {
namespace {
constexpr size_t kInitialCapacity = 256;
}

bool BlockTable::grow() {
  size_t old_capacity = capacity();
  size_t new_capacity = old_capacity ? old_capacity * 2 : kInitialCapacity;
  auto* fresh = static_cast<BlockRecord*>(map_populated_memory(new_capacity * sizeof(BlockRecord)));
  if (!fresh) return false;
  BlockRecord* old = slots_;
  // Atomic stores: prefetch() reads these two without the lock.
  __atomic_store_n(&slots_, fresh, __ATOMIC_RELAXED);
  __atomic_store_n(&mask_, new_capacity - 1, __ATOMIC_RELAXED);
  count_ = 0;
  for (size_t i = 0; i < old_capacity; ++i)
    if (old[i].address) insert(old[i]);
  unmap_memory(old, old_capacity * sizeof(BlockRecord));
  return true;
}

bool BlockTable::insert(const BlockRecord& record) {
  // Grow at 85% load. Linear probing's clusters get long beyond that;
  // below it the table's memory is most of the tracker's cost per live
  // block (3 million blocks: 70% kept 200 MB of slots, 85% 100 MB).
  if ((count_ + 1) * 20 > capacity() * 17 && !grow()) return false;
  for (size_t i = home(record.address);; i = (i + 1) & mask_) {
    if (slots_[i].address == record.address) {
      slots_[i] = record;
      return true;
    }
    if (!slots_[i].address) {
      slots_[i] = record;
      ++count_;
      return true;
    }
  }
}

BlockRecord* BlockTable::find(uintptr_t address) {
  if (!slots_ || !address) return nullptr;
  for (size_t i = home(address);; i = (i + 1) & mask_) {
    if (slots_[i].address == address) return &slots_[i];
    if (!slots_[i].address) return nullptr;
  }
}

bool BlockTable::erase(uintptr_t address) {
  BlockRecord* found = find(address);
  if (!found) return false;
  remove(*found);
  return true;
}

void BlockTable::remove(BlockRecord& record) {
  // Backward-shift deletion: pull later members of the cluster into the
  // hole when their home slot allows it, so no tombstone is needed.
  size_t hole = static_cast<size_t>(&record - slots_);
  for (size_t next = (hole + 1) & mask_; slots_[next].address; next = (next + 1) & mask_) {
    size_t want = home(slots_[next].address);
    // Move `next` into `hole` unless its home lies cyclically in (hole, next].
    bool home_between = hole <= next ? (hole < want && want <= next) : (hole < want || want <= next);
    if (!home_between) {
      slots_[hole] = slots_[next];
      hole = next;
    }
  }
  slots_[hole] = BlockRecord{};
  --count_;
}

const BlockRecord* BlockTable::find_containing(uintptr_t address) const {
  for (size_t i = 0; slots_ && i <= mask_; ++i) {
    const BlockRecord& r = slots_[i];
    if (r.address && r.contains(address)) return &r;
  }
  return nullptr;
}

void BlockTable::release() {
  unmap_memory(slots_, capacity() * sizeof(BlockRecord));
  __atomic_store_n(&slots_, nullptr, __ATOMIC_RELAXED);
  __atomic_store_n(&mask_, size_t{0}, __ATOMIC_RELAXED);
  count_ = 0;
}

}  // namespace nantrack
