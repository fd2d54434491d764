// Interns call stacks: each distinct stack is stored once and named by a
// 32-bit StackId, so live-block records stay small (as in compiler-rt's
// StackDepot). Lock-free and append-only: a lookup or insert never blocks,
// memory comes from one mmap'd reservation, and nothing is ever removed.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace nantrack {

using StackId = uint32_t;
inline constexpr StackId kNoStack = 0;

struct StackView {
  const uintptr_t* pcs = nullptr;
  uint32_t depth = 0;
};

class StackDepot {
 public:
  constexpr StackDepot() = default;
  StackDepot(const StackDepot&) = delete;
  StackDepot& operator=(const StackDepot&) = delete;

  // Reserves the address space (capacity_bytes of stacks), committed a
  // chunk at a time as stacks come (internal_memory.h says why). Returns
  // false if mmap failed; then intern() returns kNoStack.
  bool init(size_t capacity_bytes = size_t{4} << 30);
  void release();  // for tests; not used in the traced process

  // The id of this stack, storing it on first sight. kNoStack for an empty
  // stack or when the reservation is exhausted.
  StackId intern(const uintptr_t* pcs, uint32_t depth);
  StackView get(StackId id) const;

  size_t stack_count() const { return stack_count_.load(std::memory_order_relaxed); }
  // Every id this depot can hand out is below this.
  size_t id_limit() const { return capacity_units_; }

 private:
  // A node is its header followed by `depth` pcs; ids are node offsets in
  // 8-byte units from the start of the arena, so an id maps to its node
  // without any index table. Offset 0 is reserved for kNoStack.
  struct Node {
    uint64_t hash;
    std::atomic<uint32_t> next;  // id of the next node in the bucket chain
    uint32_t depth;
    uintptr_t pcs[];
  };
  static constexpr size_t kUnit = 8;
  static constexpr size_t kBucketCount = size_t{1} << 20;

  static uint64_t hash_of(const uintptr_t* pcs, uint32_t depth);
  Node* node(StackId id) const { return reinterpret_cast<Node*>(arena_ + size_t{id} * kUnit); }
  StackId find(uint32_t first, uint64_t hash, const uintptr_t* pcs, uint32_t depth) const;
  // Makes the arena usable up to `end_units`; false if the system's commit
  // limit refuses (the stack then goes unnamed).
  bool commit_through(size_t end_units);
  static constexpr size_t kCommitChunk = size_t{1} << 20;

  char* arena_ = nullptr;
  size_t capacity_units_ = 0;
  std::atomic<uint32_t>* buckets_ = nullptr;
  std::atomic<size_t> used_units_{1};
  std::atomic<size_t> committed_units_{0};
  std::atomic<size_t> stack_count_{0};
};

}  // namespace nantrack
