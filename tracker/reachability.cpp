#include "tracker/reachability.h"

#include <algorithm>
#include <cstring>

#include "tracker/internal_memory.h"
#include "tracker/own_memory.h"
#include "tracker/sandbox.h"

namespace nantrack {
namespace {

constexpr size_t kWord = sizeof(uintptr_t);
// Root memory is copied through a buffer this large: one system call per
// 64 KiB keeps a scan of a few hundred MiB of globals and stacks well under
// a second.
constexpr size_t kBufferBytes = size_t{64} << 10;

constexpr uintptr_t align_up(uintptr_t value, size_t to) { return (value + to - 1) & ~(uintptr_t{to} - 1); }
constexpr uintptr_t align_down(uintptr_t value, size_t to) { return value & ~(uintptr_t{to} - 1); }

// Copies up to `bytes` from our own memory at `from`, up to the first page
// that cannot be read (own_memory.h). Returns the bytes copied.
//
// In a seccomp sandbox, where process_vm_readv would kill the process, the
// scan reads only what is mapped by construction (loaded modules' data,
// static TLS, this thread's stack: see LeakRoots::scan), with plain loads.
size_t copy_readable(void* to, uintptr_t from, size_t bytes) {
  if (in_sandbox()) {
    std::memcpy(to, reinterpret_cast<const void*>(from), bytes);
    return bytes;
  }
  return read_own_memory(to, reinterpret_cast<const void*>(from), bytes);
}

}  // namespace

bool read_word_safely(uintptr_t address, uintptr_t& value) {
  return copy_readable(&value, address, kWord) == kWord;
}

bool ReachabilityScan::reserve(size_t capacity) {
  release();
  blocks_ = static_cast<Block*>(map_memory(capacity * sizeof(Block) + 1));
  stack_ = static_cast<size_t*>(map_memory(capacity * sizeof(size_t) + 1));
  buffer_ = static_cast<unsigned char*>(map_memory(kBufferBytes));
  regions_ = static_cast<Region*>(map_memory(kMaxRegions * sizeof(Region)));
  if (!blocks_ || !stack_ || !buffer_ || !regions_) {
    release();
    return false;
  }
  capacity_ = capacity;
  return true;
}

void ReachabilityScan::release() {
  unmap_memory(blocks_, capacity_ * sizeof(Block) + 1);
  unmap_memory(stack_, capacity_ * sizeof(size_t) + 1);
  unmap_memory(buffer_, kBufferBytes);
  unmap_memory(regions_, kMaxRegions * sizeof(Region));
  blocks_ = nullptr;
  stack_ = nullptr;
  buffer_ = nullptr;
  regions_ = nullptr;
  capacity_ = count_ = stack_size_ = region_count_ = 0;
  span_begin_ = span_bytes_ = 0;
}

void ReachabilityScan::add_block(uintptr_t address, size_t size, bool root) {
  if (count_ < capacity_)
    blocks_[count_++] = {.address = address, .size = size, .state = kUnreached, .queued = 0, .root = root};
}

void ReachabilityScan::seal() {
  std::sort(blocks_, blocks_ + count_, [](const Block& a, const Block& b) { return a.address < b.address; });
  if (!count_) return;
  // Blocks do not overlap, so the last one ends highest (an empty one
  // still has its start).
  const Block& last = blocks_[count_ - 1];
  span_begin_ = blocks_[0].address;
  span_bytes_ = last.address + (last.size ? last.size : 1) - span_begin_;
  build_regions();
}

void ReachabilityScan::build_regions() {
  // The smallest gap, from 64 KiB up, that leaves few enough regions: libc's
  // heaps are dense, each block it mmaps is a region of its own.
  for (uintptr_t gap = uintptr_t{64} << 10;; gap *= 2) {
    region_count_ = 0;
    for (size_t i = 0; i < count_ && region_count_ <= kMaxRegions; ++i) {
      const uintptr_t begin = blocks_[i].address, end = begin + (blocks_[i].size ? blocks_[i].size : 1);
      Region* current = region_count_ ? &regions_[region_count_ - 1] : nullptr;
      if (current && begin - current->end <= gap) {
        current->end = end;
        current->last = static_cast<uint32_t>(i + 1);
      } else if (region_count_ < kMaxRegions) {
        regions_[region_count_++] = {begin, end, static_cast<uint32_t>(i), static_cast<uint32_t>(i + 1)};
      } else {
        region_count_ = kMaxRegions + 1;  // too many: a wider gap
      }
    }
    if (region_count_ <= kMaxRegions) return;
  }
}

ptrdiff_t ReachabilityScan::block_at(uintptr_t value) const {
  if (!in_span(value)) return -1;
  // The region that may hold it, then the last of its blocks starting at or
  // below `value`, then whether that block covers it.
  const Region* region = std::upper_bound(regions_, regions_ + region_count_, value,
                                          [](uintptr_t v, const Region& r) { return v < r.begin; });
  if (region == regions_ || value >= region[-1].end) return -1;
  const Block* first = blocks_ + region[-1].first;
  const Block* last = blocks_ + region[-1].last;
  const Block* after =
      std::upper_bound(first, last, value, [](uintptr_t v, const Block& block) { return v < block.address; });
  if (after == first) return -1;
  const Block& block = after[-1];
  // An empty block (malloc(0)) is reached through its start only.
  if (value - block.address < block.size || value == block.address) return after - 1 - blocks_;
  return -1;
}

ptrdiff_t ReachabilityScan::find_start(uintptr_t address) const {
  ptrdiff_t index = block_at(address);
  return index >= 0 && blocks_[index].address == address ? index : -1;
}

template <typename Visit>
void ReachabilityScan::scan_range(uintptr_t begin, uintptr_t end, bool safe, Visit&& visit) {
  begin = align_up(begin, kWord);
  end = align_down(end, kWord);
  if (!safe) {
    for (uintptr_t at = begin; at < end; at += kWord) visit(*reinterpret_cast<const uintptr_t*>(at));
    return;
  }
  while (begin < end) {
    const size_t got = copy_readable(buffer_, begin, std::min<uintptr_t>(end - begin, kBufferBytes));
    if (got < kWord) {
      begin = align_down(begin, kPageSize) + kPageSize;  // skip the unreadable page
      continue;
    }
    size_t words = got / kWord;
    for (size_t i = 0; i < words; ++i) {
      uintptr_t word;
      __builtin_memcpy(&word, buffer_ + i * kWord, kWord);
      visit(word);
    }
    begin += words * kWord;
  }
}

void ReachabilityScan::push(size_t index) {
  if (blocks_[index].queued) return;
  blocks_[index].queued = 1;
  stack_[stack_size_++] = index;
}

void ReachabilityScan::mark_from(uintptr_t value, bool from_reachable) {
  ptrdiff_t index = block_at(value);
  if (index < 0) return;
  Block& block = blocks_[index];
  if (block.state == kReachable) return;
  // Reachable needs a chain of start pointers from a root; anything else
  // that reaches a block (an interior pointer, or a possibly-reached parent)
  // makes it Possible. A change of state means its children change too.
  if (value == block.address && from_reachable) {
    block.state = kReachable;
    push(static_cast<size_t>(index));
  } else if (block.state == kUnreached) {
    block.state = kPossible;
    push(static_cast<size_t>(index));
  }
}

// A block smaller than a page cannot cover a whole page, so the program
// cannot have protected it with mprotect: it is read directly. Larger ones
// go through the safe path.
void ReachabilityScan::drain_marks() {
  while (stack_size_) {
    Block& block = blocks_[stack_[--stack_size_]];
    block.queued = 0;
    const bool reachable = block.state == kReachable;
    scan_range(block.address, block.address + block.size, block.size >= kPageSize,
               [&](uintptr_t word) {
                 if (in_span(word)) mark_from(word, reachable);
               });
  }
}

void ReachabilityScan::scan_root(uintptr_t begin, uintptr_t end) {
  if (!buffer_ || begin >= end) return;
  // The scan's own tables hold the address of every block: a root range
  // over them (a registered root region the program unmapped, its
  // addresses reused for these tables) would make every block reachable.
  const auto own = [](const void* table, size_t bytes) {
    const auto begin = reinterpret_cast<uintptr_t>(table);
    return std::pair{begin, begin + bytes};
  };
  for (const auto& [own_begin, own_end] : {own(blocks_, capacity_ * sizeof(Block)),
                                           own(stack_, capacity_ * sizeof(size_t)), own(buffer_, kBufferBytes),
                                           own(regions_, kMaxRegions * sizeof(Region))}) {
    if (own_begin < end && begin < own_end) {
      scan_root(begin, own_begin);
      scan_root(own_end, end);
      return;
    }
  }
  scan_range(begin, end, true, [&](uintptr_t word) {
    if (in_span(word)) mark_from(word, true);
  });
  drain_marks();
}

void ReachabilityScan::scan_root_pointer(uintptr_t pointer) {
  if (!buffer_) return;
  mark_from(pointer, true);
  drain_marks();
}

void ReachabilityScan::scan_root_blocks() {
  for (size_t i = 0; i < count_; ++i) {
    if (!blocks_[i].root || blocks_[i].state == kReachable) continue;
    blocks_[i].state = kReachable;
    push(i);
  }
  drain_marks();
}

// valgrind's cliques: the leader stays Unreached (Definite); every block it
// reaches that no earlier flood took becomes Indirect — including an
// earlier leader, whose whole tree then hangs off this one.
void ReachabilityScan::flood_leaked(size_t leader) {
  push(leader);
  while (stack_size_) {
    Block& block = blocks_[stack_[--stack_size_]];
    block.queued = 0;
    scan_range(block.address, block.address + block.size, block.size >= kPageSize, [&](uintptr_t word) {
      ptrdiff_t index = block_at(word);
      if (index < 0 || static_cast<size_t>(index) == leader || blocks_[index].state != kUnreached) return;
      blocks_[index].state = kIndirect;
      push(static_cast<size_t>(index));
    });
  }
}

void ReachabilityScan::classify_leaks() {
  // In address order, as valgrind does, so both pick the same leaders.
  for (size_t i = 0; i < count_; ++i)
    if (blocks_[i].state == kUnreached) flood_leaked(i);
}

LeakClass ReachabilityScan::class_of(uintptr_t address) const {
  ptrdiff_t index = find_start(address);
  if (index < 0) return LeakClass::NotScanned;
  switch (blocks_[index].state) {
    case kReachable: return LeakClass::Reachable;
    case kPossible: return LeakClass::Possible;
    case kIndirect: return LeakClass::Indirect;
    default: return LeakClass::Definite;
  }
}

}  // namespace nantrack
