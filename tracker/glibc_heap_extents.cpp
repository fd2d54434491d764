#include "tracker/glibc_heap_extents.h"

#include <cstring>

#include "tracker/internal_memory.h"
#include "tracker/reachability.h"

namespace nantrack {
namespace {

// glibc's malloc on 64-bit (malloc/malloc.c, arena.c).
constexpr uintptr_t kChunkHeaderBytes = 16;  // prev_size, size
constexpr uintptr_t kIsMmapped = 0x2, kNonMainArena = 0x4, kFlags = 0x7;
constexpr uintptr_t kHeapMaxBytes = uintptr_t{64} << 20;  // HEAP_MAX_SIZE
// heap_info: ar_ptr, prev (the arena's previous heap), size, mprotect_size.
constexpr uintptr_t kHeapPrevOffset = 8;
// More heaps in one arena's chain than this means the chain is not one.
constexpr int kMaxHeapsPerArena = 1024;

}  // namespace

GlibcHeapExtents::~GlibcHeapExtents() {
  unmap_memory(ranges_, capacity_ * sizeof(LeakRoots::Range));
  unmap_memory(heaps_, kHeapSlots * sizeof(uintptr_t));
}

void GlibcHeapExtents::add(uintptr_t begin, uintptr_t end) {
  if (count_ == capacity_) {
    const size_t capacity = capacity_ ? capacity_ * 2 : 1024;
    auto* grown = static_cast<LeakRoots::Range*>(map_memory(capacity * sizeof(LeakRoots::Range)));
    if (!grown) {
      complete_ = false;
      return;
    }
    if (ranges_) std::memcpy(grown, ranges_, count_ * sizeof(LeakRoots::Range));
    unmap_memory(ranges_, capacity_ * sizeof(LeakRoots::Range));
    ranges_ = grown;
    capacity_ = capacity;
  }
  ranges_[count_++] = {begin, end};
}

bool GlibcHeapExtents::note_heap(uintptr_t heap) {
  if (!heaps_) heaps_ = static_cast<uintptr_t*>(map_memory(kHeapSlots * sizeof(uintptr_t)));
  if (!heaps_ || heap_count_ == kHeapSlots / 2) {
    complete_ = false;
    return false;
  }
  for (size_t i = (heap / kHeapMaxBytes) & (kHeapSlots - 1);; i = (i + 1) & (kHeapSlots - 1)) {
    if (heaps_[i] == heap) return false;
    if (heaps_[i] == 0) {
      heaps_[i] = heap;
      ++heap_count_;
      return true;
    }
  }
}

void GlibcHeapExtents::add_chunk_of(uintptr_t raw) {
  const uintptr_t chunk = raw - kChunkHeaderBytes;
  uintptr_t prev_size = 0, size = 0;
  std::memcpy(&prev_size, reinterpret_cast<const void*>(chunk), sizeof(prev_size));
  std::memcpy(&size, reinterpret_cast<const void*>(chunk + sizeof(prev_size)), sizeof(size));
  if (size & kIsMmapped) {
    add(chunk - prev_size, chunk + (size & ~kFlags));
  } else if (size & kNonMainArena) {
    const uintptr_t heap = chunk & ~(kHeapMaxBytes - 1);
    if (heap == last_heap_) return;
    last_heap_ = heap;
    note_heap(heap);
  }
}

// A heap's prev pointer leads to the heap its arena had before it: the
// chain from each heap seen covers its arena's others.
void GlibcHeapExtents::finish() {
  if (!heaps_) return;
  for (size_t slot = 0; slot < kHeapSlots; ++slot) {
    uintptr_t heap = heaps_[slot];
    for (int i = 0; heap && i < kMaxHeapsPerArena; ++i) {
      uintptr_t prev = 0;
      if (!read_word_safely(heap + kHeapPrevOffset, prev) || !prev || prev % kHeapMaxBytes != 0 || !note_heap(prev))
        break;
      heap = prev;
    }
  }
  for (size_t slot = 0; slot < kHeapSlots; ++slot)
    if (heaps_[slot]) add(heaps_[slot], heaps_[slot] + kHeapMaxBytes);
}

}  // namespace nantrack
