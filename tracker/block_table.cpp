#include "tracker/block_table.h"

#include "tracker/internal_memory.h"

namespace nantrack {
namespace {
constexpr size_t kInitialCapacity = 256;
}

template <typename Record>
bool SlotTable<Record>::grow() {
  size_t old_capacity = capacity();
  size_t new_capacity = old_capacity ? old_capacity * 2 : kInitialCapacity;
  auto* fresh = static_cast<Record*>(map_populated_memory(new_capacity * sizeof(Record)));
  if (!fresh) return false;
  Record* old = slots_;
  // Atomic stores: prefetch() reads these two without the lock.
  __atomic_store_n(&slots_, fresh, __ATOMIC_RELAXED);
  __atomic_store_n(&mask_, new_capacity - 1, __ATOMIC_RELAXED);
  count_ = 0;
  for (size_t i = 0; i < old_capacity; ++i)
    if (record_address(old[i])) insert(old[i]);
  unmap_memory(old, old_capacity * sizeof(Record));
  return true;
}

template <typename Record>
bool SlotTable<Record>::insert(const Record& record) {
  // Grow at 85% load. Linear probing's clusters get long beyond that;
  // below it the table's memory is most of the tracker's cost per live
  // block (3 million blocks: 70% kept 200 MB of slots, 85% 100 MB).
  if ((count_ + 1) * 20 > capacity() * 17 && !grow()) return false;
  const uintptr_t address = record_address(record);
  for (size_t i = home(address);; i = (i + 1) & mask_) {
    const uintptr_t here = record_address(slots_[i]);
    if (here == address) {
      slots_[i] = record;
      return true;
    }
    if (!here) {
      slots_[i] = record;
      ++count_;
      return true;
    }
  }
}

template <typename Record>
Record* SlotTable<Record>::find(uintptr_t address) {
  if (!slots_ || !address) return nullptr;
  for (size_t i = home(address);; i = (i + 1) & mask_) {
    const uintptr_t here = record_address(slots_[i]);
    if (here == address) return &slots_[i];
    if (!here) return nullptr;
  }
}

template <typename Record>
bool SlotTable<Record>::erase(uintptr_t address) {
  Record* found = find(address);
  if (!found) return false;
  remove(*found);
  return true;
}

template <typename Record>
void SlotTable<Record>::remove(Record& record) {
  // Backward-shift deletion: pull later members of the cluster into the
  // hole when their home slot allows it, so no tombstone is needed.
  size_t hole = static_cast<size_t>(&record - slots_);
  for (size_t next = (hole + 1) & mask_; record_address(slots_[next]); next = (next + 1) & mask_) {
    size_t want = home(record_address(slots_[next]));
    // Move `next` into `hole` unless its home lies cyclically in (hole, next].
    bool home_between = hole <= next ? (hole < want && want <= next) : (hole < want || want <= next);
    if (!home_between) {
      slots_[hole] = slots_[next];
      hole = next;
    }
  }
  slots_[hole] = Record{};
  --count_;
}

template <typename Record>
const Record* SlotTable<Record>::find_containing(uintptr_t address) const {
  for (size_t i = 0; slots_ && i <= mask_; ++i) {
    const Record& r = slots_[i];
    if (record_address(r) && full_record(r).contains(address)) return &r;
  }
  return nullptr;
}

template <typename Record>
void SlotTable<Record>::release() {
  unmap_memory(slots_, capacity() * sizeof(Record));
  __atomic_store_n(&slots_, nullptr, __ATOMIC_RELAXED);
  __atomic_store_n(&mask_, size_t{0}, __ATOMIC_RELAXED);
  count_ = 0;
}

template class SlotTable<BlockRecord>;
template class SlotTable<CompactRecord>;

}  // namespace nantrack
