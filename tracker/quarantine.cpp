#include "tracker/quarantine.h"

#include "tracker/internal_memory.h"

namespace nantrack {

bool Quarantine::configure(uint64_t max_bytes, uint32_t max_blocks) {
  release();
  if (max_bytes == 0 || max_blocks == 0) return true;
  uint32_t capacity = 16;
  while (capacity <= max_blocks) capacity *= 2;  // room for one over the limit
  ring_ = static_cast<Entry*>(map_memory(capacity * sizeof(Entry), true));
  if (!ring_) return false;
  capacity_ = capacity;
  max_blocks_ = max_blocks;
  max_bytes_ = max_bytes;
  return true;
}

void Quarantine::push(uintptr_t address, uint64_t size) {
  ring_[(head_ + count_) & (capacity_ - 1)] = {address, size};
  ++count_;
  bytes_ += size;
}

Quarantine::Entry Quarantine::pop_oldest() {
  Entry oldest = ring_[head_];
  head_ = (head_ + 1) & (capacity_ - 1);
  --count_;
  bytes_ -= oldest.size;
  return oldest;
}

void Quarantine::release() {
  unmap_memory(ring_, capacity_ * sizeof(Entry));
  ring_ = nullptr;
  capacity_ = head_ = count_ = max_blocks_ = 0;
  max_bytes_ = bytes_ = 0;
}

}  // namespace nantrack
