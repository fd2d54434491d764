// One thread's validated unwind cache: remembers, for stacks unwound
// before, every stack word the unwinder read, and answers the next capture
// from the same caller without unwinding or interning again.
//
// Why a hit is exact: the unwinder is a deterministic function of the
// registers it reads at the start (pc, sp, and rbp when it reads it) and of
// the memory words it reads (stack words, plus unwind tables and code,
// which do not change while their module is loaded). A recording holds the
// address and value of every stack word read, in order. If now the key
// registers are equal and every recorded word holds the recorded value, an
// unwind from here would read the same first address (a function of the
// registers alone), find the same value, hence read the same second
// address, and so on: it would produce the same frames, so the same stack.
//
// Several chains usually share one caller pc and sp (a malloc wrapper
// called from many paths at the same depth). They share a *layout* (the
// list of addresses read) when their frames have the same sizes. Layouts
// are keyed by (pc, sp); a few per key are kept. A layout's chains are
// found by a hash of a few of its words, its *key words*: the places where
// two of its chains were seen to differ, added one at a time as chains
// come that the key so far cannot tell apart. A lookup hashes just those
// words, probes one 4-way bucket and compares every word of the chain it
// finds: ~20 words read once rather than hashed and then compared. While a
// layout keeps giving the same chain (a call site in a loop), that chain is
// compared first, without hashing.
//
// Safety of the reads: a layout's addresses were read on this thread's
// stack between the recorded sp and the stack's top; with the same sp on
// the same stack (the caller checks that sp is inside this thread's stack
// bounds), that range is mapped.
//
// Single-threaded: one per thread. Memory is mmap'd; when the arena is
// full the whole cache is cleared and refilled. It starts small (2 MiB of
// arena, and tables to match); the first time it fills, it grows to four
// times that before starting over: a thread that sees few stacks, as most
// of a pool's do, never maps more, and one with a compiler's variety of
// stacks keeps far more of them (cc1plus: a third fewer rule walks, 3.5%
// fewer instructions).
#pragma once

#include <cstddef>
#include <cstdint>

#include "tracker/caller_frame.h"
#include "tracker/stack_depot.h"

namespace nantrack {

// What one unwind from a caller frame read.
struct UnwindRecording {
  static constexpr uint32_t kMaxReads = 1024;
  uint32_t read_count = 0;
  bool read_fp = false;             // it read the caller's rbp register
  uint32_t offsets[kMaxReads];      // address read - caller sp
  uint64_t values[kMaxReads];       // the word found there
};

class UnwindCache {
 public:
  constexpr UnwindCache() = default;
  UnwindCache(const UnwindCache&) = delete;
  UnwindCache& operator=(const UnwindCache&) = delete;

  bool init();
  void release();
  void clear();

  // The stack an unwind from `caller` would give, or kNoStack if unknown.
  // Not const: it notes which chain answered, to try it first next time.
  StackId find(const CallerFrame& caller);
  // Remembers that an unwind from `caller` read `recording` and gave `stack`.
  void insert(const CallerFrame& caller, const UnwindRecording& recording, StackId stack);
  // How often this stack was unwound from this caller (since the last
  // clear), counting this time. A recorded unwind costs ~100 plain ones:
  // only a stack that comes back is worth recording, and one whose
  // recording was refused (refuse()) is not tried again.
  enum class Sighting { First, Again, Refused };
  Sighting note_sighting(const CallerFrame& caller, StackId stack);
  void refuse(const CallerFrame& caller, StackId stack);

  // Sizes before the first fill; kGrowth times them after.
  static constexpr size_t kArenaBytes = size_t{2} << 20;
  static constexpr size_t kLayoutSets = 1024;
  static constexpr size_t kChainBuckets = 4096;
  static constexpr size_t kGrowth = 4;
  static constexpr size_t kWays = 4;
  static constexpr size_t kSeenSlots = 4096;
  static constexpr uint32_t kMaxKeyWords = 6;

 private:
  struct Layout;
  struct Chain;
  // Arena references are offsets in 8-byte units; 0 is "none".
  using Ref = uint32_t;

  // kWays references into the arena, each with a tag (the top half of the
  // hash that chose these ways): a way whose tag differs is skipped
  // without a visit to the arena, which would be a cache miss.
  struct TaggedWays {
    uint32_t tags[kWays];
    Ref refs[kWays];
  };
  // Chains by key.
  using ChainBucket = TaggedWays;
  // Layouts by (pc, sp), most recent first. Tagged because a compiler's
  // call sites share sets: cc1plus visited another site's layout 570k
  // times in 1.8M lookups before they were.
  using LayoutSet = TaggedWays;

  // The set for `caller`, and in `tag` the tag its layout has there.
  LayoutSet& layout_set(const CallerFrame& caller, uint32_t& tag) const;
  ChainBucket& bucket_of(uint64_t key) const { return chains_[key & (kChainBuckets * scale_ - 1)]; }
  static bool holds_chain(const Layout& layout, const Chain& chain, const CallerFrame& caller);
  uint64_t& sighting_slot(const CallerFrame& caller, StackId stack, uint64_t& fingerprint) const;
  template <typename T>
  T* at(Ref ref) const {
    return reinterpret_cast<T*>(arena_ + size_t{ref} * 8);
  }
  Ref allocate(size_t bytes);
  Ref find_or_add_layout(const CallerFrame& caller, const UnwindRecording& recording);
  // When the arena is full: grows the cache the first time, and clears it.
  void grow_or_clear();
  // What the arena and the tables take at `scale` times the first sizes.
  static constexpr size_t arena_bytes(size_t scale) { return kArenaBytes * scale; }
  static constexpr size_t sets_bytes(size_t scale) { return kLayoutSets * scale * sizeof(LayoutSet); }
  static constexpr size_t buckets_bytes(size_t scale) { return kChainBuckets * scale * sizeof(ChainBucket); }
  bool map_tables(size_t scale);
  static void unmap_tables(char* arena, LayoutSet* sets, ChainBucket* chains, size_t scale);
  template <typename Accept>
  Ref chain_in_bucket(Ref layout, uint64_t key, Accept&& accept) const;
  // Files `chain` under its key, evicting a chain if the bucket is full.
  void place(Ref chain);
  // Re-files every chain of `layout` after its key words changed.
  void rekey(Ref layout);

  uint32_t next_victim_ = 0;  // rotates over a full bucket's ways

  char* arena_ = nullptr;
  size_t arena_used_ = 8;  // offset 0 stays unused: Ref 0 means none
  size_t scale_ = 1;  // of the sizes mapped: 1, or kGrowth once grown
  LayoutSet* layout_sets_ = nullptr;  // kLayoutSets * scale_ of them
  ChainBucket* chains_ = nullptr;  // kChainBuckets * scale_, by key
  // kSeenSlots fingerprints of (caller, stack): odd when seen, even
  // when its recording was refused.
  uint64_t* seen_ = nullptr;
};

}  // namespace nantrack
