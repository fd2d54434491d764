#include "tracker/stack_depot.h"

#include <sys/resource.h>

#include <algorithm>
#include <cstring>

#include "tracker/internal_memory.h"

namespace nantrack {

bool StackDepot::init(size_t capacity_bytes) {
  // Under an address-space limit (ulimit -v) the reservation counts against
  // it although it is not used: an eighth of the limit at most, so that the
  // program keeps its room.
  rlimit limit{};
  if (getrlimit(RLIMIT_AS, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY)
    capacity_bytes = std::min<size_t>(capacity_bytes, limit.rlim_cur / 8);
  // Ids are 32-bit offsets in 8-byte units: at most 32 GiB can be named.
  size_t units = capacity_bytes / kUnit;
  if (units > UINT32_MAX) units = UINT32_MAX;
  buckets_ = static_cast<std::atomic<uint32_t>*>(map_memory(kBucketCount * sizeof(uint32_t), true));
  // If even the reservation fails (little address space), settle for less
  // (down to 1 MiB, some thousands of stacks) rather than nothing.
  for (size_t attempt = units; attempt >= (size_t{1} << 17); attempt /= 4) {
    arena_ = static_cast<char*>(reserve_address_space(attempt * kUnit));
    if (arena_) {
      capacity_units_ = attempt;
      break;
    }
  }
  if (!buckets_ || !arena_) {
    release();
    return false;
  }
  return true;
}

void StackDepot::release() {
  unmap_memory(buckets_, kBucketCount * sizeof(uint32_t));
  unmap_memory(arena_, capacity_units_ * kUnit);
  buckets_ = nullptr;
  arena_ = nullptr;
  capacity_units_ = 0;
  used_units_ = 1;
  committed_units_ = 0;
  stack_count_ = 0;
}

uint64_t StackDepot::hash_of(const uintptr_t* pcs, uint32_t depth) {
  // A multiply-rotate mix per frame; return addresses are well spread
  // already, the mixing only has to keep the order of frames significant.
  uint64_t hash = 0x9e3779b97f4a7c15ull ^ depth;
  for (uint32_t i = 0; i < depth; ++i) {
    hash ^= pcs[i];
    hash *= 0xff51afd7ed558ccdull;
    hash ^= hash >> 32;
  }
  return hash;
}

StackId StackDepot::find(uint32_t first, uint64_t hash, const uintptr_t* pcs, uint32_t depth) const {
  for (StackId id = first; id != kNoStack; id = node(id)->next.load(std::memory_order_acquire)) {
    const Node* n = node(id);
    if (n->hash == hash && n->depth == depth && std::memcmp(n->pcs, pcs, depth * sizeof(uintptr_t)) == 0)
      return id;
  }
  return kNoStack;
}

StackId StackDepot::intern(const uintptr_t* pcs, uint32_t depth) {
  if (depth == 0 || !arena_) return kNoStack;
  uint64_t hash = hash_of(pcs, depth);
  std::atomic<uint32_t>& bucket = buckets_[hash & (kBucketCount - 1)];
  uint32_t head = bucket.load(std::memory_order_acquire);
  if (StackId found = find(head, hash, pcs, depth)) return found;

  size_t units = (sizeof(Node) + depth * sizeof(uintptr_t) + kUnit - 1) / kUnit;
  size_t offset = used_units_.fetch_add(units, std::memory_order_relaxed);
  if (offset + units > capacity_units_) return kNoStack;  // exhausted: the rest go unnamed
  if (offset + units > committed_units_.load(std::memory_order_acquire) && !commit_through(offset + units))
    return kNoStack;
  Node* fresh = node(static_cast<StackId>(offset));
  fresh->hash = hash;
  fresh->depth = depth;
  std::memcpy(fresh->pcs, pcs, depth * sizeof(uintptr_t));

  // Publish with a CAS on the bucket head. If another thread got there
  // first, it may have inserted this very stack: look again before retrying.
  // A node lost that way is left unused, which is cheaper than a lock.
  for (;;) {
    fresh->next.store(head, std::memory_order_relaxed);
    if (bucket.compare_exchange_weak(head, static_cast<uint32_t>(offset), std::memory_order_release,
                                     std::memory_order_acquire)) {
      stack_count_.fetch_add(1, std::memory_order_relaxed);
      return static_cast<StackId>(offset);
    }
    if (StackId found = find(head, hash, pcs, depth)) return found;
  }
}

// Several threads may commit at once, over the same pages: mprotect makes
// them writable again, which changes nothing. The mark only goes up.
bool StackDepot::commit_through(size_t end_units) {
  size_t end_bytes = (end_units * kUnit + kCommitChunk - 1) & ~(kCommitChunk - 1);
  end_bytes = std::min(end_bytes, capacity_units_ * kUnit);
  if (!commit_memory(arena_, end_bytes)) return false;
  size_t committed = committed_units_.load(std::memory_order_relaxed);
  const size_t now = end_bytes / kUnit;
  while (committed < now &&
         !committed_units_.compare_exchange_weak(committed, now, std::memory_order_release, std::memory_order_relaxed)) {
  }
  return true;
}

StackView StackDepot::get(StackId id) const {
  if (id == kNoStack || !arena_ || id >= used_units_.load(std::memory_order_acquire)) return {};
  const Node* n = node(id);
  return {n->pcs, n->depth};
}

}  // namespace nantrack
