#include "tracker/mapped_roots.h"

#include <algorithm>

#include <sys/mman.h>

#include "tracker/internal_memory.h"
#include "tracker/proc_maps.h"
#include "tracker/reachability.h"
#include "tracker/thread_unwind_state.h"

namespace nantrack {
namespace {

using Range = LeakRoots::Range;

constexpr size_t kMaxExitedStacks = 1024;

bool is_anonymous(std::string_view name) { return name.empty() || name.starts_with("[anon:"); }

bool holds_stack_pointer(const KnownMemory& known, uintptr_t start, uintptr_t end) {
  const uintptr_t* last = known.stack_pointers + known.stack_pointer_count;
  const uintptr_t* first = std::lower_bound(known.stack_pointers, last, start);
  return first != last && *first < end;
}

// Scans the resident pages of [begin, end), mincore() a chunk at a time.
void scan_resident(ReachabilityScan& scan, uintptr_t begin, uintptr_t end) {
  constexpr size_t kChunkPages = 1024;
  unsigned char resident[kChunkPages];
  for (uintptr_t chunk = begin & ~(kPageSize - 1); chunk < end; chunk += kChunkPages * kPageSize) {
    const uintptr_t chunk_end = std::min<uintptr_t>(end, chunk + kChunkPages * kPageSize);
    const size_t pages = (chunk_end - chunk + kPageSize - 1) / kPageSize;
    if (mincore(reinterpret_cast<void*>(chunk), pages * kPageSize, resident) != 0) {
      scan.scan_root(std::max(chunk, begin), chunk_end);
      continue;
    }
    for (size_t page = 0; page < pages;) {
      if (!(resident[page] & 1)) {
        ++page;
        continue;
      }
      const size_t first = page;
      while (page < pages && (resident[page] & 1)) ++page;
      scan.scan_root(std::max(chunk + first * kPageSize, begin), std::min(chunk + page * kPageSize, chunk_end));
    }
  }
}

// Sorts `ranges` and merges those that overlap or touch; returns how many remain.
size_t merge(Range* ranges, size_t count) {
  std::sort(ranges, ranges + count, [](const Range& a, const Range& b) { return a.begin < b.begin; });
  size_t merged = 0;
  for (size_t i = 0; i < count; ++i) {
    if (ranges[i].begin >= ranges[i].end) continue;
    if (merged && ranges[i].begin <= ranges[merged - 1].end)
      ranges[merged - 1].end = std::max(ranges[merged - 1].end, ranges[i].end);
    else
      ranges[merged++] = ranges[i];
  }
  return merged;
}

// Scans what of [begin, end) no range of `excluded` (sorted, disjoint) covers.
void scan_uncovered(ReachabilityScan& scan, uintptr_t begin, uintptr_t end, const Range* excluded, size_t count) {
  const Range* last = excluded + count;
  const Range* next = std::upper_bound(excluded, last, begin, [](uintptr_t v, const Range& r) { return v < r.begin; });
  if (next != excluded && next[-1].end > begin) --next;
  uintptr_t cursor = begin;
  for (; next != last && next->begin < end; ++next) {
    if (next->begin > cursor) scan_resident(scan, cursor, next->begin);
    cursor = std::max(cursor, next->end);
  }
  if (cursor < end) scan_resident(scan, cursor, end);
}

}  // namespace

void scan_program_mappings(ReachabilityScan& scan, const KnownMemory& known) {
  bool complete = false;
  const size_t own = list_own_mappings(nullptr, 0, complete);
  if (!complete) return;  // an unlisted mapping of ours would make every block reachable
  // Room for mappings of ours made meanwhile (by this scan, among others).
  constexpr size_t kSpare = 64;
  MappedArray<Range> excluded(own + kSpare + known.left_out_count + known.heap_count + kMaxExitedStacks);
  MappedArray<StackBounds> exited(kMaxExitedStacks);
  if (!excluded || !exited) return;
  static_assert(sizeof(OwnMapping) == sizeof(Range));
  size_t count = list_own_mappings(reinterpret_cast<OwnMapping*>(excluded.data()), own + kSpare, complete);
  if (!complete || count > own + kSpare) return;
  for (size_t i = 0; i < known.left_out_count; ++i) excluded[count++] = known.left_out[i];
  for (size_t i = 0; i < known.heap_count; ++i) excluded[count++] = known.heap[i];
  const size_t exited_count = list_exited_thread_stacks(exited.data(), kMaxExitedStacks);
  for (size_t i = 0; i < exited_count; ++i) excluded[count++] = {exited[i].low, exited[i].high};
  count = merge(excluded.data(), count);

  ProcMaps maps;
  Mapping mapping;
  while (maps.next(mapping)) {
    if (!mapping.readable || !mapping.writable || !is_anonymous(mapping.name) || mapping.end <= mapping.start) continue;
    // A thread's stack: the kernel may have merged it with what lies above
    // it, which then goes unread.
    if (holds_stack_pointer(known, mapping.start, mapping.end)) continue;
    scan_uncovered(scan, mapping.start, mapping.end, excluded.data(), count);
  }
}

}  // namespace nantrack
