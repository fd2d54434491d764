// Freed blocks held back from libc, oldest first out. While a block sits
// here libc cannot hand its address to anyone else, so a second free of it
// is recognised as a double free (its record stays in the block table,
// marked freed, with the free stack). Bounded by bytes and by count.
// Not thread-safe: one per shard, under the shard's lock.
#pragma once

#include <cstddef>
#include <cstdint>

namespace nantrack {

class Quarantine {
 public:
  struct Entry {
    uintptr_t address;
    uint64_t size;
  };

  constexpr Quarantine() = default;
  Quarantine(const Quarantine&) = delete;
  Quarantine& operator=(const Quarantine&) = delete;

  // Limits for this quarantine; max_blocks 0 or max_bytes 0 turns it off.
  bool configure(uint64_t max_bytes, uint32_t max_blocks);
  bool enabled() const { return capacity_ != 0; }
  // Whether a block of this size is worth holding (one larger than the whole
  // budget would only push everything else out).
  bool accepts(uint64_t size) const { return enabled() && size <= max_bytes_; }

  void push(uintptr_t address, uint64_t size);
  // True while the limits are exceeded: the caller should evict oldest().
  bool over_limit() const { return bytes_ > max_bytes_ || count_ > max_blocks_; }
  Entry pop_oldest();
  // The entry pop_oldest() would return; count() must not be 0.
  const Entry& oldest() const { return ring_[head_]; }
  // Starts loading the ring a few entries past the oldest: evictions read
  // it in order, one entry per free, and it is long cold by then (4 MiB of
  // ring entries over all shards with the default limits).
  void prefetch_ahead() const { __builtin_prefetch(&ring_[(head_ + 8) & (capacity_ - 1)]); }

  uint32_t count() const { return count_; }
  uint64_t bytes() const { return bytes_; }
  void release();

 private:
  Entry* ring_ = nullptr;
  uint32_t capacity_ = 0;  // power of two, > max_blocks_
  uint32_t head_ = 0;      // index of the oldest entry
  uint32_t count_ = 0;
  uint32_t max_blocks_ = 0;
  uint64_t max_bytes_ = 0;
  uint64_t bytes_ = 0;
};

}  // namespace nantrack
