// Where glibc's malloc keeps the chunks it has handed out, found from their
// headers: an mmapped chunk's own mapping, or the heap of a non-main arena
// (64 MiB-aligned reservations; the main arena's heap is [heap]). The leak
// scan leaves these out when it reads the memory the program maps for
// itself (mapped_roots.h): a free chunk's stale words there must not keep
// a leak reachable, and the kernel may have merged such a mapping with the
// program's own, so that /proc/self/maps cannot tell them apart.
// Only for glibc's malloc, whose chunk headers these are.
#pragma once

#include <cstddef>
#include <cstdint>

#include "tracker/leak_roots.h"

namespace nantrack {

class GlibcHeapExtents {
 public:
  GlibcHeapExtents() = default;
  ~GlibcHeapExtents();
  GlibcHeapExtents(const GlibcHeapExtents&) = delete;
  GlibcHeapExtents& operator=(const GlibcHeapExtents&) = delete;

  // `raw`: a pointer glibc's malloc returned, still allocated (to the
  // program, or held in quarantine).
  void add_chunk_of(uintptr_t raw);
  // After the last chunk: adds the heaps found, and the other heaps of
  // their arenas (which may hold no chunk in use, only free ones).
  void finish();
  // False when memory for the list ran out: some extents are missing.
  bool complete() const { return complete_; }
  const LeakRoots::Range* ranges() const { return ranges_; }
  size_t count() const { return count_; }

 private:
  void add(uintptr_t begin, uintptr_t end);
  // Adds `heap` to the set of heaps; false if it was there (or the set is full).
  bool note_heap(uintptr_t heap);

  LeakRoots::Range* ranges_ = nullptr;
  size_t count_ = 0;
  size_t capacity_ = 0;
  bool complete_ = true;
  // The non-main arenas' heaps seen, by address (open addressing), mapped
  // at the first.
  static constexpr size_t kHeapSlots = 4096;
  uintptr_t* heaps_ = nullptr;
  size_t heap_count_ = 0;
  uintptr_t last_heap_ = 0;  // blocks come in runs from one heap
};

}  // namespace nantrack
