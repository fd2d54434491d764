// Freed blocks held back from libc, oldest first out. While a block sits
// here libc cannot hand its address to anyone else, so a second free of it
// is recognised as a double free: its record moves here from the block
// table, marked freed, with the free stack. Keeping it in the table
// instead cost a second table lookup and removal for every free, on a line
// long out of cache, when the block left (churn: a third of what the
// quarantine cost); only a free of an address the table does not know
// looks here, by a scan. Bounded by bytes and by count.
// Not thread-safe: one per shard, under the shard's lock.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "tracker/block_record.h"
#include "tracker/platform.h"

namespace nantrack {

// The limits that all shards' quarantines share: the user's
// quarantine_bytes and quarantine_blocks. Each quarantine adds its changes
// here in batches (publish_bytes(), publish_blocks()), so that these
// counters are written every few hundred frees rather than on every one,
// by whichever core frees. The totals read here lag by less than a batch
// per quarantine, a quarter of the limits over all of them at most.
class QuarantineBudget {
 public:
  constexpr QuarantineBudget() = default;
  QuarantineBudget(const QuarantineBudget&) = delete;
  QuarantineBudget& operator=(const QuarantineBudget&) = delete;

  // `quarantines`: how many share it.
  void configure(uint64_t max_bytes, uint64_t max_blocks, uint32_t quarantines);
  bool exceeded() const {
    return bytes_.load(std::memory_order_relaxed) > max_bytes_ ||
           blocks_.load(std::memory_order_relaxed) > max_blocks_;
  }
  void add(int64_t bytes, int64_t blocks) {
    bytes_.fetch_add(bytes, std::memory_order_relaxed);
    blocks_.fetch_add(blocks, std::memory_order_relaxed);
  }
  int64_t bytes() const { return bytes_.load(std::memory_order_relaxed); }
  int64_t blocks() const { return blocks_.load(std::memory_order_relaxed); }
  int64_t publish_bytes() const { return publish_bytes_; }
  int64_t publish_blocks() const { return publish_blocks_; }

 private:
  // A line of their own: every shard's lock holder writes them.
  alignas(64) std::atomic<int64_t> bytes_{0};
  std::atomic<int64_t> blocks_{0};
  int64_t max_bytes_ = 0;
  int64_t max_blocks_ = 0;
  int64_t publish_bytes_ = 1;
  int64_t publish_blocks_ = 1;
};

class Quarantine {
 public:
  constexpr Quarantine() = default;
  Quarantine(const Quarantine&) = delete;
  Quarantine& operator=(const Quarantine&) = delete;

  // Limits for this quarantine; max_blocks 0 or max_bytes 0 turns it off.
  // With a `shared` budget the limits of all quarantines together hold too:
  // while they are exceeded, a quarantine holding more than its fair share
  // (fair_bytes, fair_blocks) gives up two entries for each one pushed, so
  // the larger ones shrink and make room for the others; one holding less
  // asks for room elsewhere (wants_room_elsewhere).
  bool configure(uint64_t max_bytes, uint32_t max_blocks, QuarantineBudget* shared = nullptr,
                 uint64_t fair_bytes = 0, uint32_t fair_blocks = 0);
  bool enabled() const { return capacity_ != 0; }
  // Whether a block of this size is worth holding (one larger than the whole
  // budget would only push everything else out). The ring is mapped on the
  // first such block: a process uses a few of its shards (one group per
  // 64 MiB of heap), and 64 rings reserved at start took 24 MiB of address
  // space and 64 mmap calls. If it cannot be mapped, this quarantine is off.
  bool accepts(uint64_t size) {
    return enabled() && size <= max_bytes_ && (ring_ || map_ring());
  }

  // `freed`: the record of a freed block (freed set, its free stack), one
  // that accepts() took. Inline, as pop_oldest(): every free makes both.
  NANTRACK_ALWAYS_INLINE void push(const BlockRecord& freed) {
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
    note_change(static_cast<int64_t>(size), 1);
  }
  // True while this quarantine should give up its oldest entry (see
  // configure): the caller should evict oldest().
  bool over_limit() const { return bytes_ > target_bytes_ || count_ > target_count_; }
  // After a push under the pressure of the shared limits into a quarantine
  // holding no more than its fair share: room should be made in one that
  // holds more (it may belong to threads that stopped freeing, and only a
  // push makes a quarantine give anything up).
  bool wants_room_elsewhere() const { return wants_room_elsewhere_; }
  bool above_fair_share() const { return bytes_ > fair_bytes_ || count_ > fair_blocks_; }
  NANTRACK_ALWAYS_INLINE BlockRecord pop_oldest() {
    BlockRecord oldest = ring_[head_];
    head_ = (head_ + 1) & (capacity_ - 1);
    --count_;
    bytes_ -= oldest.size;
    note_change(-static_cast<int64_t>(oldest.size), -1);
    return oldest;
  }
  // The record pop_oldest() would return; count() must not be 0.
  const BlockRecord& oldest() const { return ring_[head_]; }
  // The record of the block at `address`, or nullptr. Linear, newest
  // first (a double free tends to follow the first free closely): for
  // frees of addresses the block table does not hold, which are errors.
  const BlockRecord* find(uintptr_t address) const;
  // A record whose block contains `address` (see BlockTable). Linear.
  const BlockRecord* find_containing(uintptr_t address) const;
  template <typename Visitor>
  void for_each(Visitor&& visit) const {
    for (uint32_t i = 0; i < count_; ++i) visit(ring_[(head_ + i) & (capacity_ - 1)]);
  }
  // Starts loading the ring a few entries past the oldest: evictions read
  // it in order, one entry per free, and it is long cold by then (6 MiB of
  // ring entries over all shards with the default limits).
  void prefetch_ahead() const { __builtin_prefetch(&ring_[(head_ + 8) & (capacity_ - 1)]); }

  uint32_t count() const { return count_; }
  uint64_t bytes() const { return bytes_; }
  void release();

 private:
  // Adds a change to what is not yet published to the shared budget, and
  // publishes it once a batch is due (QuarantineBudget).
  NANTRACK_ALWAYS_INLINE void note_change(int64_t bytes, int64_t blocks) {
    unpublished_bytes_ += bytes;
    unpublished_blocks_ += blocks;
    if (unpublished_bytes_ >= publish_bytes_ || -unpublished_bytes_ >= publish_bytes_ ||
        unpublished_blocks_ >= publish_blocks_ || -unpublished_blocks_ >= publish_blocks_) [[unlikely]]
      publish();
  }
  void publish();
  bool map_ring();

  BlockRecord* ring_ = nullptr;
  uint32_t capacity_ = 0;  // power of two, > max_blocks_
  uint32_t head_ = 0;      // index of the oldest entry
  uint32_t count_ = 0;
  uint32_t max_blocks_ = 0;
  uint64_t max_bytes_ = 0;
  uint64_t bytes_ = 0;
  // What over_limit() compares against: the limits, or less while shrinking.
  uint64_t target_bytes_ = 0;
  uint32_t target_count_ = 0;
  bool wants_room_elsewhere_ = false;
  QuarantineBudget* shared_ = nullptr;
  uint64_t fair_bytes_ = 0;
  uint32_t fair_blocks_ = 0;
  int64_t unpublished_bytes_ = 0;
  int64_t unpublished_blocks_ = 0;
  // The shared budget's batch sizes, copied: its line is written by every
  // shard's lock holder. Without a budget, never reached.
  int64_t publish_bytes_ = INT64_MAX;
  int64_t publish_blocks_ = INT64_MAX;
};

}  // namespace nantrack
