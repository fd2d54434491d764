#include "tracker/unwind_cache.h"

#include <bit>
#include <cstring>

#include <emmintrin.h>

#include "tracker/internal_memory.h"

namespace nantrack {

struct UnwindCache::Layout {
  uintptr_t pc;
  uintptr_t sp;
  uint32_t read_count;
  uint32_t read_fp;
  Ref last_chain;       // the chain this layout last answered with
  uint32_t repeating;   // its last two answers were that chain: try it first
  Ref newest_chain;     // the chains of this layout, linked newest first
  uint32_t key_count;
  uint16_t key_words[kMaxKeyWords];  // indexes into offsets
  // offsets[key_words[k]], kept beside the indexes (which insert() needs
  // for the recorded values): a lookup then loads one word less per key word.
  uint32_t key_offsets[kMaxKeyWords];
  uint32_t offsets[];
};

struct UnwindCache::Chain {
  uint64_t key;
  Ref layout;
  StackId stack;
  uint64_t fp;  // compared only when the layout read rbp
  Ref older;    // the previous chain of the same layout
  uint32_t padding;  // values stay 8-byte aligned
  uint64_t values[];
};

namespace {

uint64_t read_stack_word(uintptr_t address) {
  uint64_t value;
  std::memcpy(&value, reinterpret_cast<const void*>(address), sizeof(value));
  return value;
}

// A weak hash only costs a miss; equality is always checked word by word.
constexpr uint64_t mix(uint64_t h) {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ull;
  return h ^ (h >> 33);
}

// The hash of a layout's key words (and of the frame pointer when the
// layout read it), as `key_word(k)` gives the k-th of them.
template <typename Layout, typename KeyWord>
uint64_t key_of(uint32_t layout_ref, const Layout& layout, uint64_t fp, KeyWord key_word) {
  uint64_t h = layout_ref * 0x9e3779b97f4a7c15ull ^ (layout.read_fp ? fp : 0);
  for (uint32_t k = 0; k < layout.key_count; ++k) h = std::rotl(h, 23) ^ key_word(k);
  return mix(h);
}

}  // namespace

bool UnwindCache::init() {
  seen_ = static_cast<uint64_t*>(map_memory(kSeenSlots * sizeof(uint64_t)));
  if (seen_ && map_tables(1)) return true;
  release();
  return false;
}

void UnwindCache::release() {
  unmap_tables(arena_, layout_sets_, chains_, scale_);
  unmap_memory(seen_, kSeenSlots * sizeof(uint64_t));
  arena_ = nullptr;
  layout_sets_ = nullptr;
  chains_ = nullptr;
  seen_ = nullptr;
  scale_ = 1;
  arena_used_ = 8;
}

// Maps the arena and tables at `scale` times the first sizes, empty, in
// place of the current ones; false (and the current ones kept) if mmap
// failed. Mapped only when needed, so that threads that never grow do not
// reserve (and, where overcommit is strict, commit) the larger sizes.
bool UnwindCache::map_tables(size_t scale) {
  auto* arena = static_cast<char*>(map_memory(arena_bytes(scale), true));
  auto* sets = static_cast<LayoutSet*>(map_memory(sets_bytes(scale)));
  auto* chains = static_cast<ChainBucket*>(map_memory(buckets_bytes(scale)));
  if (!arena || !sets || !chains) {
    unmap_tables(arena, sets, chains, scale);
    return false;
  }
  prefer_small_pages(arena, arena_bytes(scale));
  unmap_tables(arena_, layout_sets_, chains_, scale_);
  arena_ = arena;
  layout_sets_ = sets;
  chains_ = chains;
  scale_ = scale;
  arena_used_ = 8;
  return true;
}

void UnwindCache::unmap_tables(char* arena, LayoutSet* sets, ChainBucket* chains, size_t scale) {
  unmap_memory(arena, arena_bytes(scale));
  unmap_memory(sets, sets_bytes(scale));
  unmap_memory(chains, buckets_bytes(scale));
}

void UnwindCache::clear() {
  if (!arena_) return;
  std::memset(layout_sets_, 0, sets_bytes(scale_));
  std::memset(chains_, 0, buckets_bytes(scale_));
  std::memset(seen_, 0, kSeenSlots * sizeof(uint64_t));
  arena_used_ = 8;
}

void UnwindCache::grow_or_clear() {
  if (scale_ == 1 && map_tables(kGrowth)) {
    std::memset(seen_, 0, kSeenSlots * sizeof(uint64_t));  // the new tables are empty already
    return;
  }
  clear();
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

UnwindCache::LayoutSet& UnwindCache::layout_set(const CallerFrame& caller, uint32_t& tag) const {
  const uint64_t h = mix(caller.pc ^ std::rotl(caller.sp, 29));
  tag = static_cast<uint32_t>(h >> 32);
  return layout_sets_[h & (kLayoutSets * scale_ - 1)];
}

// Whether the stack seen from `caller` holds every word `chain` recorded.
// Without a branch per word: the chain asked about almost always matches.
bool UnwindCache::holds_chain(const Layout& layout, const Chain& chain, const CallerFrame& caller) {
  if (layout.read_fp && chain.fp != caller.fp) return false;
  uint64_t differ = 0;
#pragma GCC unroll 4
  for (uint32_t i = 0; i < layout.read_count; ++i)
    differ |= read_stack_word(caller.sp + layout.offsets[i]) ^ chain.values[i];
  return differ == 0;
}

// The first chain of `layout` filed under `key` that `accept` takes, or 0.
template <typename Accept>
UnwindCache::Ref UnwindCache::chain_in_bucket(Ref layout, uint64_t key, Accept&& accept) const {
  const ChainBucket& bucket = bucket_of(key);
  // The four tags compared at once: the ways to visit, as bits.
  static_assert(kWays == 4 && sizeof(bucket.tags) == sizeof(__m128i));
  const __m128i tags = _mm_loadu_si128(reinterpret_cast<const __m128i*>(bucket.tags));
  const __m128i wanted = _mm_set1_epi32(static_cast<int>(key >> 32));
  for (unsigned ways = _mm_movemask_ps(_mm_castsi128_ps(_mm_cmpeq_epi32(tags, wanted))); ways; ways &= ways - 1) {
    const Ref ref = bucket.refs[std::countr_zero(ways)];
    if (!ref) continue;
    const Chain& chain = *at<Chain>(ref);
    if (chain.key == key && chain.layout == layout && accept(chain)) return ref;
  }
  return 0;
}

StackId UnwindCache::find(const CallerFrame& caller) {
  if (!arena_) return kNoStack;
  uint32_t tag;
  const LayoutSet& set = layout_set(caller, tag);
  for (size_t way = 0; way < kWays && set.refs[way]; ++way) {
    if (set.tags[way] != tag) continue;
    const Ref layout_ref = set.refs[way];
    Layout* layout = at<Layout>(layout_ref);
    if (layout->pc != caller.pc || layout->sp != caller.sp) continue;
    auto key_word = [&](uint32_t k) { return read_stack_word(caller.sp + layout->key_offsets[k]); };
    // A call site in a loop allocates from one path many times in a row:
    // while its answers repeat, the last chain is compared first, without
    // hashing.
    if (layout->repeating) {
      const Chain* last = at<Chain>(layout->last_chain);
      if (holds_chain(*layout, *last, caller)) return last->stack;
      layout->repeating = 0;
    }
    uint64_t key = key_of(layout_ref, *layout, caller.fp, key_word);
    Ref found = chain_in_bucket(layout_ref, key, [&](const Chain& chain) { return holds_chain(*layout, chain, caller); });
    if (found) {
      layout->repeating = layout->last_chain == found;
      layout->last_chain = found;
      return at<Chain>(found)->stack;
    }
  }
  return kNoStack;
}

UnwindCache::Ref UnwindCache::allocate(size_t bytes) {
  bytes = (bytes + 7) & ~size_t{7};
  if (arena_used_ + bytes > arena_bytes(scale_)) return 0;
  Ref ref = static_cast<Ref>(arena_used_ / 8);
  arena_used_ += bytes;
  return ref;
}

UnwindCache::Ref UnwindCache::find_or_add_layout(const CallerFrame& caller, const UnwindRecording& recording) {
  uint32_t tag;
  LayoutSet& set = layout_set(caller, tag);
  for (size_t way = 0; way < kWays && set.refs[way]; ++way) {
    if (set.tags[way] != tag) continue;
    const Layout* layout = at<Layout>(set.refs[way]);
    if (layout->pc == caller.pc && layout->sp == caller.sp && layout->read_fp == recording.read_fp &&
        layout->read_count == recording.read_count &&
        std::memcmp(layout->offsets, recording.offsets, recording.read_count * sizeof(uint32_t)) == 0)
      return set.refs[way];
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
  layout->newest_chain = 0;
  layout->key_count = 0;
  std::memcpy(layout->offsets, recording.offsets, recording.read_count * sizeof(uint32_t));
  // The newest layout goes first; the oldest of a full set is forgotten
  // (its chains stay in the arena, unreachable, until the next clear).
  std::memmove(set.refs + 1, set.refs, (kWays - 1) * sizeof(Ref));
  std::memmove(set.tags + 1, set.tags, (kWays - 1) * sizeof(uint32_t));
  set.refs[0] = ref;
  set.tags[0] = tag;
  return ref;
}

void UnwindCache::place(Ref ref) {
  const Chain* chain = at<Chain>(ref);
  ChainBucket& bucket = bucket_of(chain->key);
  size_t way = 0;
  while (way < kWays && bucket.refs[way]) ++way;
  // Rotating rather than by hash: chains that share a key would otherwise
  // keep evicting each other from one way.
  if (way == kWays) way = next_victim_++ & (kWays - 1);
  bucket.tags[way] = static_cast<uint32_t>(chain->key >> 32);
  bucket.refs[way] = ref;
}

void UnwindCache::rekey(Ref layout_ref) {
  const Layout* layout = at<Layout>(layout_ref);
  for (Ref ref = layout->newest_chain; ref; ref = at<Chain>(ref)->older) {
    Chain* chain = at<Chain>(ref);
    ChainBucket& bucket = bucket_of(chain->key);
    for (size_t way = 0; way < kWays; ++way)
      if (bucket.refs[way] == ref) bucket.refs[way] = 0;
    chain->key = key_of(layout_ref, *layout, chain->fp, [&](uint32_t k) { return chain->values[layout->key_words[k]]; });
    place(ref);
  }
}

void UnwindCache::insert(const CallerFrame& caller, const UnwindRecording& recording, StackId stack) {
  if (!arena_ || stack == kNoStack) return;
  size_t chain_bytes = sizeof(Chain) + recording.read_count * sizeof(uint64_t);
  size_t worst_case = sizeof(Layout) + recording.read_count * sizeof(uint32_t) + chain_bytes + 16;
  if (arena_used_ + worst_case > arena_bytes(scale_)) grow_or_clear();
  Ref layout_ref = find_or_add_layout(caller, recording);
  if (!layout_ref) return;
  Layout* layout = at<Layout>(layout_ref);
  auto value_at = [&](uint32_t k) { return recording.values[layout->key_words[k]]; };
  uint64_t key = key_of(layout_ref, *layout, caller.fp, value_at);
  // A chain the key words cannot tell from this one: the first word where
  // they differ becomes a key word too.
  auto same_fp = [&](const Chain& chain) { return !layout->read_fp || chain.fp == caller.fp; };
  while (Ref twin_ref = chain_in_bucket(layout_ref, key, same_fp)) {
    Chain* twin = at<Chain>(twin_ref);
    uint32_t word = 0;
    while (word < recording.read_count && twin->values[word] == recording.values[word]) ++word;
    if (word == recording.read_count) {  // the same chain: its stack is this one
      twin->stack = stack;
      return;
    }
    if (layout->key_count == kMaxKeyWords) break;  // they share a bucket
    layout->key_words[layout->key_count] = static_cast<uint16_t>(word);
    layout->key_offsets[layout->key_count++] = layout->offsets[word];
    rekey(layout_ref);
    key = key_of(layout_ref, *layout, caller.fp, value_at);
  }
  Ref ref = allocate(chain_bytes);
  if (!ref) return;
  Chain* chain = at<Chain>(ref);
  chain->key = key;
  chain->layout = layout_ref;
  chain->stack = stack;
  chain->fp = caller.fp;
  chain->older = layout->newest_chain;
  chain->padding = 0;
  std::memcpy(chain->values, recording.values, recording.read_count * sizeof(uint64_t));
  layout->newest_chain = ref;
  place(ref);
  layout->last_chain = ref;
  layout->repeating = 0;
}

}  // namespace nantrack
