// One thread's validated unwind cache: remembers, for stacks unwound
// before, where the unwinder read the stack and a hash of what it found
// there, and answers the next capture from the same caller without
// unwinding or interning again.
//
// Why a hit is right: the unwinder is a deterministic function of the
// registers it reads at the start (pc, sp, and rbp when it reads it) and of
// the memory words it reads (stack words, plus unwind tables and code,
// which do not change while their module is loaded). A recording holds the
// address and value of every stack word read, in order. If now the key
// registers are equal and every recorded word holds the recorded value, an
// unwind from here would read the same first address (a function of the
// registers alone), find the same value, hence read the same second
// address, and so on: it would produce the same frames, so the same stack.
// "Holds the recorded value" is checked by hash, as below.
//
// Several chains usually share one caller pc and sp (a malloc wrapper
// called from many paths at the same depth). They share a *layout* (the
// list of addresses read) when their frames have the same sizes. Layouts
// are keyed by (pc, sp); a few per key are kept. A chain is not stored
// word by word: it is filed by a 128-bit NH hash (UMAC's, with keys drawn
// from the kernel's AT_RANDOM bytes at start) of its layout and of every
// word it read, folded to 64 bits. A lookup hashes the words it finds now
// at the layout's addresses and compares that one word with the ones its
// bucket holds: the words it reads are the thread's own stack, in cache,
// and besides the layout the bucket is the only line it touches. Compared word by
// word, the recorded values were a cache miss per 64 bytes of every chain
// (churn: half the time of a lookup). Two different chains of a layout
// have the same hash with a chance of about 2^-64 (NH's bound for random
// keys, whatever the stack holds), far below any error rate of the
// machine itself; unwind_check=1 still compares every hit with libunwind.
//
// Safety of the reads: a layout's addresses were read on this thread's
// stack between the recorded sp and the stack's top; with the same sp on
// the same stack (the caller checks that sp is inside this thread's stack
// bounds), that range is mapped.
//
// Single-threaded: one per thread. Memory is mmap'd. Layouts are kept in
// an arena; when it is full, or once full buckets have dropped a quarter
// as many chains as they hold, the whole cache is cleared and refilled.
// It starts small (a 1 MiB arena, 16k chains); the first time it fills,
// it grows to four times that before starting over: a thread that sees
// few stacks, as most of a pool's do, never maps more, and one with a
// compiler's variety of stacks keeps far more of them.
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
  // Not const: the layout notes which chain answered, to try it first
  // next time.
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

  // Draws the hash keys: once, before any thread looks up or inserts
  // (lookups made with the keys of before would miss).
  static void choose_hash_keys();

  // Sizes before the first fill; kGrowth times them after.
  static constexpr size_t kArenaBytes = size_t{1} << 20;
  static constexpr size_t kLayoutSets = 1024;
  static constexpr size_t kChainBuckets = 4096;
  static constexpr size_t kGrowth = 4;
  static constexpr size_t kWays = 4;
  static constexpr size_t kSeenSlots = 4096;

 private:
  struct Layout;
  // Arena references are offsets in 8-byte units; 0 is "none".
  using Ref = uint32_t;

  // Layouts by (pc, sp), most recent first, each with a tag (the top half
  // of the hash that chose the set): a way whose tag differs is skipped
  // without a visit to the arena. Tagged because a compiler's call sites
  // share sets: cc1plus visited another site's layout 570k times in 1.8M
  // lookups before they were.
  struct LayoutSet {
    uint32_t tags[kWays];
    Ref refs[kWays];
  };
  // Chains by hash: one cache line, its ways' hashes compared at once.
  // An empty way has stack kNoStack.
  struct alignas(64) ChainBucket {
    uint64_t hashes[kWays];
    StackId stacks[kWays];
  };

  // The set for `caller`, and in `tag` the tag its layout has there.
  LayoutSet& layout_set(const CallerFrame& caller, uint32_t& tag) const;
  ChainBucket& bucket_of(uint64_t hash) const;
  // The layout in `set` of `caller` that read the addresses `recording` did, or 0.
  Ref find_layout(const LayoutSet& set, uint32_t tag, const CallerFrame& caller, const UnwindRecording& recording) const;
  uint64_t& sighting_slot(const CallerFrame& caller, StackId stack, uint64_t& fingerprint) const;
  template <typename T>
  T* at(Ref ref) const {
    return reinterpret_cast<T*>(arena_ + size_t{ref} * 8);
  }
  Ref allocate(size_t bytes);
  Ref add_layout(LayoutSet& set, uint32_t tag, const CallerFrame& caller, const UnwindRecording& recording);
  static void move_to_front(LayoutSet& set, size_t way);
  // When the arena is full or the buckets overflow: grows the cache the
  // first time, and clears it.
  void grow_or_clear();
  // What the arena and the tables take at `scale` times the first sizes.
  static constexpr size_t arena_bytes(size_t scale) { return kArenaBytes * scale; }
  static constexpr size_t sets_bytes(size_t scale) { return kLayoutSets * scale * sizeof(LayoutSet); }
  static constexpr size_t buckets_bytes(size_t scale) { return kChainBuckets * scale * sizeof(ChainBucket); }
  bool map_tables(size_t scale);
  static void unmap_tables(char* arena, LayoutSet* sets, ChainBucket* chains, size_t scale);

  uint32_t next_victim_ = 0;  // rotates over a full bucket's ways
  // Chains dropped from full buckets since the tables were last emptied.
  size_t dropped_ = 0;

  char* arena_ = nullptr;
  // Offset 0 stays unused: Ref 0 means none.
  static constexpr size_t kArenaStart = 8;
  size_t arena_used_ = kArenaStart;
  size_t scale_ = 1;  // of the sizes mapped: 1, or kGrowth once grown
  LayoutSet* layout_sets_ = nullptr;  // kLayoutSets * scale_ of them
  ChainBucket* chains_ = nullptr;  // kChainBuckets * scale_, by hash
  // kSeenSlots fingerprints of (caller, stack): odd when seen, even
  // when its recording was refused.
  uint64_t* seen_ = nullptr;
};

}  // namespace nantrack
