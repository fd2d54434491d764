#include "tracker/quarantine.h"

#include <algorithm>
#include <cstdlib>

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

bool Quarantine::configure(uint64_t max_bytes, uint32_t max_blocks, QuarantineBudget* shared, uint64_t fair_bytes,
                           uint32_t fair_blocks) {
  release();
  if (max_bytes == 0 || max_blocks == 0) return true;
  uint32_t capacity = 16;
  while (capacity <= max_blocks) capacity *= 2;  // room for one over the limit
  capacity_ = capacity;
  max_blocks_ = target_count_ = max_blocks;
  max_bytes_ = target_bytes_ = max_bytes;
  shared_ = shared;
  fair_bytes_ = fair_bytes;
  fair_blocks_ = fair_blocks;
  return true;
}

bool Quarantine::map_ring() {
  ring_ = static_cast<BlockRecord*>(map_memory(capacity_ * sizeof(BlockRecord), true));
  if (!ring_) capacity_ = 0;
  return ring_ != nullptr;
}

void Quarantine::push(const BlockRecord& freed) {
  const uint64_t size = freed.size;
  target_bytes_ = max_bytes_;
  target_count_ = max_blocks_;
  const bool pressure = shared_ && shared_->exceeded(), above_share = above_fair_share();
  wants_room_elsewhere_ = pressure && !above_share;
  if (pressure && above_share) {
    // Shrink: give up more than this push adds.
    target_bytes_ = bytes_ > size ? bytes_ - size : 0;
    target_count_ = count_ > 0 ? count_ - 1 : 0;
  }
  const uint32_t tail = head_ + count_;
  ring_[tail & (capacity_ - 1)] = freed;
  // The ring's next lines were last written a whole quarantine ago: start
  // owning them now, or a later push's store misses and the shard lock's
  // release waits for it (churn: the unlock took half of deallocate()'s
  // samples before).
  __builtin_prefetch(&ring_[(tail + 8) & (capacity_ - 1)], 1);
  ++count_;
  bytes_ += size;
  unpublished_bytes_ += static_cast<int64_t>(size);
  ++unpublished_blocks_;
  publish_if_due();
}

BlockRecord Quarantine::pop_oldest() {
  BlockRecord oldest = ring_[head_];
  head_ = (head_ + 1) & (capacity_ - 1);
  --count_;
  bytes_ -= oldest.size;
  unpublished_bytes_ -= static_cast<int64_t>(oldest.size);
  --unpublished_blocks_;
  publish_if_due();
  return oldest;
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

void Quarantine::publish_if_due() {
  if (!shared_) return;
  if (std::abs(unpublished_bytes_) >= shared_->publish_bytes() ||
      std::abs(unpublished_blocks_) >= shared_->publish_blocks()) {
    shared_->add(unpublished_bytes_, unpublished_blocks_);
    unpublished_bytes_ = unpublished_blocks_ = 0;
  }
}

void Quarantine::release() {
  // What this quarantine held no longer counts against the shared limits.
  if (shared_) shared_->add(unpublished_bytes_ - static_cast<int64_t>(bytes_), unpublished_blocks_ - count_);
  unmap_memory(ring_, capacity_ * sizeof(BlockRecord));
  ring_ = nullptr;
  shared_ = nullptr;
  capacity_ = head_ = count_ = max_blocks_ = target_count_ = fair_blocks_ = 0;
  wants_room_elsewhere_ = false;
  max_bytes_ = bytes_ = target_bytes_ = fair_bytes_ = 0;
  unpublished_bytes_ = unpublished_blocks_ = 0;
}

}  // namespace nantrack
