#include "tracker/unwind_cache.h"

#include <bit>
#include <cstring>

#include "tracker/internal_memory.h"

namespace nantrack {

struct UnwindCache::Layout {
  uintptr_t pc;
  uintptr_t sp;
  uint32_t read_count;
  uint32_t read_fp;
  Ref last_chain;       // the chain this layout last answered with
  uint32_t repeating;   // its last two answers were that chain: try it first
  uint32_t offsets[];
};

struct UnwindCache::Chain {
  uint64_t hash;
  Ref layout;
  StackId stack;
  uint64_t fp;  // compared only when the layout read rbp
  uint64_t values[];
};

namespace {

uint64_t read_stack_word(uintptr_t address) {
  uint64_t value;
  std::memcpy(&value, reinterpret_cast<const void*>(address), sizeof(value));
  return value;
}

// Hashing runs on every hit over ~20 words: a rotate-xor per word in two
// independent chains (even and odd words, so the chain's latency, which
// bounds a hit, is halved) and one strong mix at the end. A weak hash only
// costs a miss; equality is always checked word by word.
constexpr uint64_t mix(uint64_t h) {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ull;
  return h ^ (h >> 33);
}

template <typename WordAt>
uint64_t hash_words(uint32_t layout, bool read_fp, uint64_t fp, uint32_t count, WordAt word_at) {
  uint64_t even = layout * 0x9e3779b97f4a7c15ull ^ (read_fp ? fp : 0), odd = count;
  uint32_t i = 0;
  for (; i + 2 <= count; i += 2) {
    even = std::rotl(even, 23) ^ word_at(i);
    odd = std::rotl(odd, 29) ^ word_at(i + 1);
  }
  if (i < count) even = std::rotl(even, 23) ^ word_at(i);
  return mix(even + odd * 0xd6e8feb86659fd93ull);
}

}  // namespace

bool UnwindCache::init() {
  arena_ = static_cast<char*>(map_memory(kArenaBytes, true));
  layout_sets_ = static_cast<Ref*>(map_memory(kLayoutSets * kWays * sizeof(Ref)));
  chains_ = static_cast<ChainBucket*>(map_memory(kChainBuckets * sizeof(ChainBucket)));
  seen_ = static_cast<uint64_t*>(map_memory(kSeenSlots * sizeof(uint64_t)));
  if (arena_ && layout_sets_ && chains_ && seen_) return true;
  release();
  return false;
}

void UnwindCache::release() {
  unmap_memory(arena_, kArenaBytes);
  unmap_memory(layout_sets_, kLayoutSets * kWays * sizeof(Ref));
  unmap_memory(chains_, kChainBuckets * sizeof(ChainBucket));
  unmap_memory(seen_, kSeenSlots * sizeof(uint64_t));
  arena_ = nullptr;
  layout_sets_ = nullptr;
  chains_ = nullptr;
  seen_ = nullptr;
  arena_used_ = 8;
}

void UnwindCache::clear() {
  if (!arena_) return;
  std::memset(layout_sets_, 0, kLayoutSets * kWays * sizeof(Ref));
  std::memset(chains_, 0, kChainBuckets * sizeof(ChainBucket));
  std::memset(seen_, 0, kSeenSlots * sizeof(uint64_t));
  arena_used_ = 8;
}

uint64_t& UnwindCache::sighting_slot(const CallerFrame& caller, StackId stack, uint64_t& fingerprint) const {
  fingerprint = mix(caller.pc ^ std::rotl(caller.sp, 29) ^ (uint64_t{stack} << 40 | stack)) | 1;
  return seen_[fingerprint & (kSeenSlots - 1)];
}

UnwindCache::Sighting UnwindCache::note_sighting(const CallerFrame& caller, StackId stack) {
  if (!arena_) return Sighting::Refused;
  uint64_t fingerprint;
  uint64_t& slot = sighting_slot(caller, stack, fingerprint);
  if (slot == fingerprint) return Sighting::Again;
  if (slot == (fingerprint & ~uint64_t{1})) return Sighting::Refused;
  slot = fingerprint;
  return Sighting::First;
}

void UnwindCache::refuse(const CallerFrame& caller, StackId stack) {
  if (!arena_) return;
  uint64_t fingerprint;
  uint64_t& slot = sighting_slot(caller, stack, fingerprint);
  slot = fingerprint & ~uint64_t{1};
}

uint64_t UnwindCache::layout_set_index(const CallerFrame& caller) {
  return mix(caller.pc ^ std::rotl(caller.sp, 29)) & (kLayoutSets - 1);
}

StackId UnwindCache::find(const CallerFrame& caller) {
  if (!arena_) return kNoStack;
  const Ref* set = layout_sets_ + layout_set_index(caller) * kWays;
  for (size_t way = 0; way < kWays && set[way]; ++way) {
    Layout* layout = at<Layout>(set[way]);
    if (layout->pc != caller.pc || layout->sp != caller.sp) continue;
    auto word_at = [&](uint32_t i) { return read_stack_word(caller.sp + layout->offsets[i]); };
    // A call site in a loop allocates from one path many times in a row:
    // while its answers repeat, the last chain is compared first, without
    // hashing, from the outermost word in (chains of one layout share their
    // innermost frames, so another path shows itself within a few words).
    if (layout->repeating) {
      const Chain* last = at<Chain>(layout->last_chain);
      if (!layout->read_fp || last->fp == caller.fp) {
        uint32_t i = layout->read_count;
        while (i > 0 && word_at(i - 1) == last->values[i - 1]) --i;
        if (i == 0) return last->stack;
      }
      layout->repeating = 0;
    }
    uint64_t hash = hash_words(set[way], layout->read_fp, caller.fp, layout->read_count, word_at);
    const ChainBucket& bucket = chains_[hash & (kChainBuckets - 1)];
    for (size_t chain_way = 0; chain_way < kWays; ++chain_way) {
      if (bucket.tags[chain_way] != static_cast<uint32_t>(hash >> 32) || !bucket.refs[chain_way]) continue;
      const Chain* chain = at<Chain>(bucket.refs[chain_way]);
      if (chain->hash != hash || chain->layout != set[way]) continue;
      if (layout->read_fp && chain->fp != caller.fp) continue;
      // Without a branch per word: a chain that got this far (same hash,
      // same tag) almost always matches.
      uint64_t differ = 0;
      for (uint32_t i = 0; i < layout->read_count; ++i) differ |= word_at(i) ^ chain->values[i];
      if (!differ) {
        layout->repeating = layout->last_chain == bucket.refs[chain_way];
        layout->last_chain = bucket.refs[chain_way];
        return chain->stack;
      }
    }
  }
  return kNoStack;
}

UnwindCache::Ref UnwindCache::allocate(size_t bytes) {
  bytes = (bytes + 7) & ~size_t{7};
  if (arena_used_ + bytes > kArenaBytes) return 0;
  Ref ref = static_cast<Ref>(arena_used_ / 8);
  arena_used_ += bytes;
  return ref;
}

UnwindCache::Ref UnwindCache::find_or_add_layout(const CallerFrame& caller, const UnwindRecording& recording) {
  Ref* set = layout_sets_ + layout_set_index(caller) * kWays;
  for (size_t way = 0; way < kWays && set[way]; ++way) {
    const Layout* layout = at<Layout>(set[way]);
    if (layout->pc == caller.pc && layout->sp == caller.sp && layout->read_fp == recording.read_fp &&
        layout->read_count == recording.read_count &&
        std::memcmp(layout->offsets, recording.offsets, recording.read_count * sizeof(uint32_t)) == 0)
      return set[way];
  }
  Ref ref = allocate(sizeof(Layout) + recording.read_count * sizeof(uint32_t));
  if (!ref) return 0;
  Layout* layout = at<Layout>(ref);
  layout->pc = caller.pc;
  layout->sp = caller.sp;
  layout->read_count = recording.read_count;
  layout->read_fp = recording.read_fp;
  layout->last_chain = 0;
  layout->repeating = 0;
  std::memcpy(layout->offsets, recording.offsets, recording.read_count * sizeof(uint32_t));
  // The newest layout goes first; the oldest of a full set is forgotten
  // (its chains stay in the arena, unreachable, until the next clear).
  std::memmove(set + 1, set, (kWays - 1) * sizeof(Ref));
  set[0] = ref;
  return ref;
}

void UnwindCache::insert(const CallerFrame& caller, const UnwindRecording& recording, StackId stack) {
  if (!arena_ || stack == kNoStack) return;
  size_t chain_bytes = sizeof(Chain) + recording.read_count * sizeof(uint64_t);
  size_t worst_case = sizeof(Layout) + recording.read_count * sizeof(uint32_t) + chain_bytes + 16;
  if (arena_used_ + worst_case > kArenaBytes) clear();
  Ref layout = find_or_add_layout(caller, recording);
  Ref ref = allocate(chain_bytes);
  if (!layout || !ref) return;
  Chain* chain = at<Chain>(ref);
  chain->hash = hash_words(layout, recording.read_fp, caller.fp, recording.read_count,
                           [&](uint32_t i) { return recording.values[i]; });
  chain->layout = layout;
  chain->stack = stack;
  chain->fp = caller.fp;
  std::memcpy(chain->values, recording.values, recording.read_count * sizeof(uint64_t));
  // The way of an older copy of this chain, an empty way, else one picked
  // by the hash's middle bits (no LRU state to update on hits).
  ChainBucket& bucket = chains_[chain->hash & (kChainBuckets - 1)];
  size_t way = 0;
  while (way < kWays && bucket.refs[way] && bucket.tags[way] != static_cast<uint32_t>(chain->hash >> 32)) ++way;
  if (way == kWays) way = (chain->hash >> 20) & (kWays - 1);
  bucket.tags[way] = static_cast<uint32_t>(chain->hash >> 32);
  bucket.refs[way] = ref;
  at<Layout>(layout)->last_chain = ref;
  at<Layout>(layout)->repeating = 0;
}

}  // namespace nantrack
