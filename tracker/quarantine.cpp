#include "tracker/quarantine.h"

#include <algorithm>

#include "tracker/internal_memory.h"

namespace nantrack {

void QuarantineBudget::configure(uint64_t max_bytes, uint64_t max_blocks, uint32_t quarantines) {
  max_bytes_ = static_cast<int64_t>(max_bytes);
  max_blocks_ = static_cast<int64_t>(max_blocks);
  // Large enough that the shared line is written rarely, small enough that
  // what is not yet published stays within a quarter of the limits.
  auto batch = [quarantines](uint64_t limit, int64_t most) {
    return std::clamp(static_cast<int64_t>(limit / (4 * uint64_t{quarantines})), int64_t{1}, most);
  };
  publish_bytes_ = batch(max_bytes, 64 * 1024);
  publish_blocks_ = batch(max_blocks, 64);
}

bool Quarantine::configure(uint64_t max_bytes, uint32_t max_blocks, QuarantineBudget* shared, uint32_t index) {
  release();
  if (max_bytes == 0 || max_blocks == 0) return true;
  uint32_t capacity = 16;
  while (capacity <= max_blocks) capacity *= 2;  // room for one over the limit
  capacity_ = capacity;
  max_blocks_ = target_count_ = max_blocks;
  max_bytes_ = target_bytes_ = max_bytes;
  shared_ = shared;
  index_ = index;
  if (shared) {
    publish_bytes_ = shared->publish_bytes();
    publish_blocks_ = shared->publish_blocks();
  }
  return true;
}

// The ring, then its stamps.
size_t Quarantine::mapped_bytes() const {
  return capacity_ * sizeof(BlockRecord) + capacity_ / kStampGroup * sizeof(uint64_t);
}

bool Quarantine::map_ring() {
  ring_ = static_cast<BlockRecord*>(map_memory(mapped_bytes(), true));
  if (!ring_) {
    capacity_ = 0;
    return false;
  }
  stamps_ = reinterpret_cast<uint64_t*>(ring_ + capacity_);
  if (shared_) shared_->note_in_use(index_);
  return true;
}

const BlockRecord* Quarantine::find(uintptr_t address) const {
  for (uint32_t i = count_; i > 0; --i) {
    const BlockRecord& record = ring_[(head_ + i - 1) & (capacity_ - 1)];
    if (record.address == address) return &record;
  }
  return nullptr;
}

const BlockRecord* Quarantine::find_containing(uintptr_t address) const {
  for (uint32_t i = count_; i > 0; --i) {
    const BlockRecord& record = ring_[(head_ + i - 1) & (capacity_ - 1)];
    if (record.contains(address)) return &record;
  }
  return nullptr;
}

void Quarantine::publish() {
  shared_->add(unpublished_bytes_, unpublished_blocks_, unpublished_pushes_);
  unpublished_bytes_ = unpublished_blocks_ = 0;
  unpublished_pushes_ = 0;
}

void Quarantine::release() {
  // What this quarantine held no longer counts against the shared limits.
  if (shared_)
    shared_->add(unpublished_bytes_ - static_cast<int64_t>(bytes_), unpublished_blocks_ - count_, unpublished_pushes_);
  unmap_memory(ring_, mapped_bytes());
  ring_ = nullptr;
  stamps_ = nullptr;
  shared_ = nullptr;
  capacity_ = head_ = count_ = max_blocks_ = target_count_ = 0;
  wants_room_elsewhere_ = pressed_ = false;
  max_bytes_ = bytes_ = target_bytes_ = 0;
  oldest_stamp_.store(kNoStamp, std::memory_order_relaxed);
  oldest_elsewhere_ = kNoStamp;
  unpublished_bytes_ = unpublished_blocks_ = 0;
  unpublished_pushes_ = 0;
  publish_bytes_ = publish_blocks_ = INT64_MAX;
}

}  // namespace nantrack
