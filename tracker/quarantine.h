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

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>

#include "tracker/block_record.h"
#include "tracker/platform.h"

namespace nantrack {

// A limit with the slack the quarantines allow before they stop waiting
// for another thread to make room (Tracker::evict_elsewhere()).
template <typename T>
constexpr T an_eighth_over(T limit) {
  return limit + limit / 8;
}

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
  // Exceeded by more than an eighth.
  bool far_exceeded() const {
    return bytes_.load(std::memory_order_relaxed) > an_eighth_over(max_bytes_) ||
           blocks_.load(std::memory_order_relaxed) > an_eighth_over(max_blocks_);
  }
  void add(int64_t bytes, int64_t blocks, uint64_t pushes) {
    bytes_.fetch_add(bytes, std::memory_order_relaxed);
    blocks_.fetch_add(blocks, std::memory_order_relaxed);
    pushes_.fetch_add(pushes, std::memory_order_relaxed);
  }
  int64_t bytes() const { return bytes_.load(std::memory_order_relaxed); }
  int64_t blocks() const { return blocks_.load(std::memory_order_relaxed); }
  // blocks(), but never below 0 (it lags, and may briefly be).
  uint64_t held_blocks() const { return static_cast<uint64_t>(std::max<int64_t>(blocks(), 0)); }
  // Blocks pushed into all quarantines so far: the clock their blocks are
  // stamped with (Quarantine::oldest_stamp()).
  uint64_t pushes() const { return pushes_.load(std::memory_order_relaxed); }
  // The quarantines that have held a block, by the index each was
  // configured with: a bit each.
  static constexpr uint32_t kMaxQuarantines = 64;
  uint64_t in_use() const { return in_use_.load(std::memory_order_relaxed); }
  void note_in_use(uint32_t index) { in_use_.fetch_or(uint64_t{1} << index, std::memory_order_relaxed); }
  int64_t publish_bytes() const { return publish_bytes_; }
  int64_t publish_blocks() const { return publish_blocks_; }

 private:
  // A line of their own: every shard's lock holder writes them.
  alignas(64) std::atomic<int64_t> bytes_{0};
  std::atomic<int64_t> blocks_{0};
  std::atomic<uint64_t> pushes_{0};
  std::atomic<uint64_t> in_use_{0};
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
  // With a `shared` budget the limits of all quarantines together hold too,
  // and while they are exceeded the oldest blocks of all should go first,
  // as from one queue. A quarantine whose oldest block is among the oldest
  // anywhere gives up two of its own for each one pushed: "among" is at
  // most an eighth of the held blocks' count of pushes younger than the
  // oldest elsewhere (note_oldest_elsewhere()). One whose blocks are all
  // younger asks for room in the quarantine holding the oldest
  // (wants_room_elsewhere()).
  //
  // Why by age: a freed block's quarantine is its address's shard's. Giving
  // up one's own blocks whatever their age sends back to libc the addresses
  // of the shards freed into most, libc hands them out again, and those
  // shards are freed into still more: in a 5M-pair churn whose heap spanned
  // two 64 MiB groups, one shard ended up with every live block and a
  // twelfth of the quarantine, so a block freed there was held for 5,600
  // frees instead of 65,536, while others kept blocks freed at the start.
  // `index`: which of the budget's quarantines this is (< kMaxQuarantines).
  bool configure(uint64_t max_bytes, uint32_t max_blocks, QuarantineBudget* shared = nullptr, uint32_t index = 0);
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
    wants_room_elsewhere_ = false;
    const uint32_t tail = head_ + count_;
    pressed_ = shared_ && shared_->exceeded();
    if (pressed_) [[unlikely]] {
      if (count_ && holds_the_oldest()) {
        // Shrink: give up more than this push adds.
        target_bytes_ = bytes_ > size ? bytes_ - size : 0;
        target_count_ = count_ - 1;
      } else {
        wants_room_elsewhere_ = true;
      }
    }
    const uint32_t slot = tail & (capacity_ - 1);
    if (!count_ || slot % kStampGroup == 0) stamps_[slot / kStampGroup] = now();
    ring_[slot] = freed;
    // The ring's next lines were last written a whole quarantine ago: start
    // owning them now, or a later push's store misses and the shard lock's
    // release waits for it (churn: the unlock took half of deallocate()'s
    // samples before).
    __builtin_prefetch(&ring_[(tail + 8) & (capacity_ - 1)], 1);
    __builtin_prefetch(&stamps_[((tail + kStampsAhead) & (capacity_ - 1)) / kStampGroup], 1);
    if (!count_++) publish_oldest();
    bytes_ += size;
    ++unpublished_pushes_;
    note_change(static_cast<int64_t>(size), 1);
  }
  // True while this quarantine should give up its oldest entry (see
  // configure): the caller should evict oldest().
  bool over_limit() const { return bytes_ > target_bytes_ || count_ > target_count_; }
  // Over its own limits by more than an eighth.
  bool far_over_limit() const { return bytes_ > an_eighth_over(max_bytes_) || count_ > an_eighth_over(max_blocks_); }
  // After a push under the pressure of the shared limits into a quarantine
  // whose blocks are all younger than the oldest elsewhere: room should be
  // made in the quarantine holding that one (only a push makes a quarantine
  // give anything up, and it may belong to threads that stopped freeing).
  bool wants_room_elsewhere() const { return wants_room_elsewhere_; }
  // Whether the last push found the shared limits exceeded.
  bool pressed() const { return pressed_; }
  NANTRACK_ALWAYS_INLINE BlockRecord pop_oldest() {
    BlockRecord oldest = ring_[head_];
    head_ = (head_ + 1) & (capacity_ - 1);
    --count_;
    bytes_ -= oldest.size;
    if (head_ % kStampGroup == 0 || !count_) publish_oldest();  // else the same stamp
    note_change(-static_cast<int64_t>(oldest.size), -1);
    return oldest;
  }
  // The record pop_oldest() would return; count() must not be 0.
  const BlockRecord& oldest() const { return ring_[head_]; }
  // When the oldest block was pushed, on the shared clock
  // (QuarantineBudget::pushes()); kNoStamp when empty. Read by other
  // threads without this quarantine's lock: it may lag.
  static constexpr uint64_t kNoStamp = UINT64_MAX;
  uint64_t oldest_stamp() const { return oldest_stamp_.load(std::memory_order_relaxed); }
  // The oldest stamp of the other quarantines, as the caller last found it.
  void note_oldest_elsewhere(uint64_t stamp) { oldest_elsewhere_ = stamp; }
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
  void prefetch_ahead() const {
    __builtin_prefetch(&ring_[(head_ + 8) & (capacity_ - 1)]);
    __builtin_prefetch(&stamps_[((head_ + kStampsAhead) & (capacity_ - 1)) / kStampGroup]);
  }

  uint32_t count() const { return count_; }
  uint64_t bytes() const { return bytes_; }
  void release();

 private:
  // The shared clock as this quarantine sees it: what all have published,
  // plus its own pushes not yet published.
  uint64_t now() const { return (shared_ ? shared_->pushes() : 0) + unpublished_pushes_; }
  // Whether the oldest block here is within the slack of the oldest
  // elsewhere (see configure()).
  bool holds_the_oldest() const {
    const uint64_t slack = shared_->held_blocks() / 8;
    const uint64_t oldest_here = head_stamp();
    return oldest_here <= oldest_elsewhere_ || oldest_here - oldest_elsewhere_ <= slack;
  }
  // The stamp of the oldest entry's group; count_ must not be 0.
  uint64_t head_stamp() const { return stamps_[head_ / kStampGroup]; }
  void publish_oldest() { oldest_stamp_.store(count_ ? head_stamp() : kNoStamp, std::memory_order_relaxed); }
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
  size_t mapped_bytes() const;
  bool map_ring();

  BlockRecord* ring_ = nullptr;
  // When entries were pushed, on the shared clock: one stamp for each
  // kStampGroup entries, that of the first pushed (so an entry's stamp
  // may be a few pushes early). Per entry, beside the ring or in it, the
  // stamps were one more cache miss per free (churn +5%).
  static constexpr uint32_t kStampGroup = 8;
  // How far ahead their lines are loaded: a line holds the stamps of 64 entries.
  static constexpr uint32_t kStampsAhead = 64;
  uint64_t* stamps_ = nullptr;
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
  bool pressed_ = false;
  QuarantineBudget* shared_ = nullptr;
  uint32_t index_ = 0;
  std::atomic<uint64_t> oldest_stamp_{kNoStamp};
  uint64_t oldest_elsewhere_ = kNoStamp;
  int64_t unpublished_bytes_ = 0;
  int64_t unpublished_blocks_ = 0;
  uint64_t unpublished_pushes_ = 0;
  // The shared budget's batch sizes, copied: its line is written by every
  // shard's lock holder. Without a budget, never reached.
  int64_t publish_bytes_ = INT64_MAX;
  int64_t publish_blocks_ = INT64_MAX;
};

}  // namespace nantrack
