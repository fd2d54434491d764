#include "tracker/unwind_cache.h"

#include <bit>
#include <cstring>

#include <sys/auxv.h>

#include "tracker/internal_memory.h"

namespace nantrack {

struct UnwindCache::Layout {
  uintptr_t pc;
  uintptr_t sp;
  uint32_t read_count;
  uint32_t read_fp;
  // The chain this layout last answered with: a call site in a loop gets
  // it many times in a row, and then needs no bucket (a cache miss in
  // cc1plus half the time).
  uint64_t last_hash;
  StackId last_stack;  // kNoStack: none yet
  uint32_t offsets[];
};

namespace {

// NH's keys: one per word hashed (the layout's two words, then every word
// read, padded to an even count).
constexpr uint32_t kHashKeys = UnwindRecording::kMaxReads + 4;
uint64_t g_hash_keys[kHashKeys];

uint64_t read_stack_word(uintptr_t address) {
  uint64_t value;
  std::memcpy(&value, reinterpret_cast<const void*>(address), sizeof(value));
  return value;
}

// A weak hash only costs a miss: for where things are filed.
constexpr uint64_t mix(uint64_t h) {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ull;
  return h ^ (h >> 33);
}

using u128 = unsigned __int128;

// The hash a chain is known by: NH over (layout, read_count), the frame
// pointer (0 when the layout did not read it) and the `count` words
// `word(i)` gives, folded to 64 bits. NH sums independent products, so the
// multiplications overlap rather than wait on each other. The fold keeps
// the low half whole: two chains that differ by a little differ mostly
// there (their high halves often agree).
template <typename Word>
uint64_t chain_hash(uint32_t layout_ref, uint32_t count, uint64_t fp, Word word) {
  const uint64_t* k = g_hash_keys;
  const uint64_t head = layout_ref | uint64_t{count} << 32;
  u128 sum = u128{head + k[0]} * (fp + k[1]);
  uint32_t i = 0;
#pragma GCC unroll 4
  for (; i + 1 < count; i += 2) sum += u128{word(i) + k[i + 2]} * (word(i + 1) + k[i + 3]);
  if (i < count) sum += u128{word(i) + k[i + 2]} * k[i + 3];
  const auto low = static_cast<uint64_t>(sum), high = static_cast<uint64_t>(sum >> 64);
  return low ^ high * 0x9e3779b97f4a7c15ull;
}

}  // namespace

void UnwindCache::choose_hash_keys() {
  // The 16 random bytes the kernel gave this process, spread over the keys
  // as splitmix64 does (a Weyl sequence through a mixer): no system call,
  // nothing a seccomp sandbox could refuse.
  uint64_t seed[2] = {0x243f6a8885a308d3ull, 0x13198a2e03707344ull};
  if (const auto* random = reinterpret_cast<const void*>(getauxval(AT_RANDOM))) std::memcpy(seed, random, sizeof(seed));
  uint64_t state = seed[0] ^ mix(seed[1]);
  for (uint64_t& key : g_hash_keys) key = mix(state += 0x9e3779b97f4a7c15ull);
}

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
  arena_used_ = kArenaStart;
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
  arena_used_ = kArenaStart;
  dropped_ = 0;
  return true;
}

void UnwindCache::unmap_tables(char* arena, LayoutSet* sets, ChainBucket* chains, size_t scale) {
  unmap_memory(arena, arena_bytes(scale));
  unmap_memory(sets, sets_bytes(scale));
  unmap_memory(chains, buckets_bytes(scale));
}

void UnwindCache::clear() {
  if (!arena_) return;
  // Sets and buckets are written only by insert(), after a layout took
  // room in the arena: a cache that never took one holds nothing there
  // (its thread never allocated, or only from stacks libunwind alone can
  // unwind), and 320 KiB of it need not be written over.
  if (arena_used_ > kArenaStart) {
    std::memset(layout_sets_, 0, sets_bytes(scale_));
    std::memset(chains_, 0, buckets_bytes(scale_));
  }
  std::memset(seen_, 0, kSeenSlots * sizeof(uint64_t));
  arena_used_ = kArenaStart;
  dropped_ = 0;
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

// Sets and buckets are chosen by the top bits of a product (Fibonacci
// hashing): one multiplication on every lookup's path of dependent loads,
// where mix() takes two and three shifts (churn: 1.43 -> 1.36 s, medians
// of 11). A chain hash is folded once more first: NH is linear in small
// changes of a word, so chains whose words differ by small steps (i, 7i)
// have hashes in an arithmetic progression, whose top bits, for about one
// key draw in a hundred, fell into few buckets: 30,000 such chains lost up
// to 13% of themselves to full buckets instead of 3%. The xor with the
// high half and the product break the progression.
static_assert(std::has_single_bit(UnwindCache::kLayoutSets) && std::has_single_bit(UnwindCache::kChainBuckets) &&
              std::has_single_bit(UnwindCache::kGrowth));

namespace {

// How far a product or hash is shifted right to index `count` times `scale`
// sets or buckets (both powers of two). The shift is off the critical
// path: scale_ loads while the multiplication runs.
constexpr unsigned index_shift(size_t count, size_t scale) {
  return 64 - std::countr_zero(count) - std::countr_zero(scale);
}

}  // namespace

UnwindCache::LayoutSet& UnwindCache::layout_set(const CallerFrame& caller, uint32_t& tag) const {
  const uint64_t h = (caller.pc ^ std::rotl(caller.sp, 29)) * 0x9e3779b97f4a7c15ull;
  tag = static_cast<uint32_t>(h >> 16);  // bits the set's index does not use
  return layout_sets_[h >> index_shift(kLayoutSets, scale_)];
}

UnwindCache::ChainBucket& UnwindCache::bucket_of(uint64_t hash) const {
  return chains_[((hash ^ (hash >> 32)) * 0x9e3779b97f4a7c15ull) >> index_shift(kChainBuckets, scale_)];
}

UnwindCache::Ref UnwindCache::find_layout(const LayoutSet& set, uint32_t tag, const CallerFrame& caller,
                                          const UnwindRecording& recording) const {
  for (size_t way = 0; way < kWays && set.refs[way]; ++way) {
    if (set.tags[way] != tag) continue;
    const Layout* layout = at<Layout>(set.refs[way]);
    if (layout->pc == caller.pc && layout->sp == caller.sp && layout->read_fp == recording.read_fp &&
        layout->read_count == recording.read_count &&
        std::memcmp(layout->offsets, recording.offsets, recording.read_count * sizeof(uint32_t)) == 0)
      return set.refs[way];
  }
  return 0;
}

StackId UnwindCache::find(const CallerFrame& caller) {
  if (!arena_) return kNoStack;
  uint32_t tag;
  LayoutSet& set = layout_set(caller, tag);
  // Several layouts of one caller may hold their recorded words at once
  // (LayoutsOfOneCallerCoexist): the first in the set answers. One that
  // answers moves to the front: a wrapper such as cc1plus's xmalloc has
  // layouts for several frame sizes above it, and each one tried first
  // costs a hash of its words (1.44 layouts a lookup in newest-first order).
  for (size_t way = 0; way < kWays && set.refs[way]; ++way) {
    if (set.tags[way] != tag) continue;
    const Ref layout_ref = set.refs[way];
    Layout& layout = *at<Layout>(layout_ref);
    if (layout.pc != caller.pc || layout.sp != caller.sp) continue;
    const uint64_t hash = chain_hash(layout_ref, layout.read_count, layout.read_fp ? caller.fp : 0,
                                     [&](uint32_t i) { return read_stack_word(caller.sp + layout.offsets[i]); });
    StackId found = hash == layout.last_hash ? layout.last_stack : kNoStack;
    if (!found) {
      const ChainBucket& bucket = bucket_of(hash);
      for (size_t w = 0; w < kWays && !found; ++w)
        if (bucket.hashes[w] == hash) found = bucket.stacks[w];
      if (!found) continue;
      layout.last_hash = hash;
      layout.last_stack = found;
    }
    if (way) [[unlikely]]
      move_to_front(set, way);
    return found;
  }
  return kNoStack;
}

void UnwindCache::move_to_front(LayoutSet& set, size_t way) {
  const uint32_t tag = set.tags[way];
  const Ref ref = set.refs[way];
  std::memmove(set.refs + 1, set.refs, way * sizeof(Ref));
  std::memmove(set.tags + 1, set.tags, way * sizeof(uint32_t));
  set.refs[0] = ref;
  set.tags[0] = tag;
}

UnwindCache::Ref UnwindCache::allocate(size_t bytes) {
  bytes = (bytes + 7) & ~size_t{7};
  if (arena_used_ + bytes > arena_bytes(scale_)) return 0;
  Ref ref = static_cast<Ref>(arena_used_ / 8);
  arena_used_ += bytes;
  return ref;
}

UnwindCache::Ref UnwindCache::add_layout(LayoutSet& set, uint32_t tag, const CallerFrame& caller,
                                         const UnwindRecording& recording) {
  Ref ref = allocate(sizeof(Layout) + recording.read_count * sizeof(uint32_t));
  if (!ref) return 0;
  Layout* layout = at<Layout>(ref);
  layout->pc = caller.pc;
  layout->sp = caller.sp;
  layout->read_count = recording.read_count;
  layout->read_fp = recording.read_fp;
  layout->last_hash = 0;
  layout->last_stack = kNoStack;
  std::memcpy(layout->offsets, recording.offsets, recording.read_count * sizeof(uint32_t));
  // The newest layout goes first; the last of a full set, the one that
  // answered least recently, is forgotten (it stays in the arena,
  // unreachable, until the next clear; its chains' buckets are taken over
  // by others in time).
  set.refs[kWays - 1] = ref;
  set.tags[kWays - 1] = tag;
  move_to_front(set, kWays - 1);
  return ref;
}

void UnwindCache::insert(const CallerFrame& caller, const UnwindRecording& recording, StackId stack) {
  if (!arena_ || stack == kNoStack) return;
  const size_t layout_bytes = sizeof(Layout) + recording.read_count * sizeof(uint32_t) + 8;
  if (arena_used_ + layout_bytes > arena_bytes(scale_) || dropped_ >= kChainBuckets * kWays * scale_ / 4)
    grow_or_clear();
  uint32_t tag;
  LayoutSet& set = layout_set(caller, tag);
  Ref layout_ref = find_layout(set, tag, caller, recording);
  if (!layout_ref && !(layout_ref = add_layout(set, tag, caller, recording))) return;
  const uint64_t hash = chain_hash(layout_ref, recording.read_count, recording.read_fp ? caller.fp : 0,
                                   [&](uint32_t i) { return recording.values[i]; });
  ChainBucket& bucket = bucket_of(hash);
  size_t way = 0;
  while (way < kWays && bucket.stacks[way] != kNoStack && bucket.hashes[way] != hash) ++way;
  if (way == kWays) {
    // Rotating rather than by hash: chains that share a bucket would
    // otherwise keep evicting each other from one way.
    way = next_victim_++ & (kWays - 1);
    ++dropped_;
  }
  bucket.hashes[way] = hash;
  bucket.stacks[way] = stack;
  Layout& layout = *at<Layout>(layout_ref);
  layout.last_hash = hash;
  layout.last_stack = stack;
}

}  // namespace nantrack
