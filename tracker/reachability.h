// The leak scan: which live blocks the program can still reach. Roots
// (globals, stacks, registers, TLS) are scanned word by word for pointers
// into blocks, reached blocks are scanned in turn, and what is left is a
// leak. Classification and cycle handling follow valgrind's memcheck
// (mc_leakcheck.c), so the two tools agree on the same program.
//
// Runs once, at the snapshot, with the heap frozen. All memory is mmap'd:
// the scan may not call the allocator it is watching.
#pragma once

#include <cstddef>
#include <cstdint>

namespace nantrack {

// What the scan says about a block. The values are those of the trace's
// LiveBlockEntry::leak_kind (trace_format.h).
enum class LeakClass : uint8_t {
  NotScanned = 0,  // no scan was made (fatal signal): the report calls it definite
  Definite = 1,    // nothing points to it
  Indirect = 2,    // only other leaked blocks point to it
  Possible = 3,    // reached, but only through a pointer into its interior
  Reachable = 4,   // a pointer to its start, from a root or a reachable block
};

// Copies the word at `address` into `value` without faulting; false when
// it cannot be read (unmapped, PROT_NONE).
bool read_word_safely(uintptr_t address, uintptr_t& value);

// How many live blocks, and bytes, a snapshot found of each class.
struct LeakTally {
  uint64_t blocks[5] = {};  // by LeakClass
  uint64_t bytes[5] = {};

  void add(LeakClass kind, uint64_t size) {
    ++blocks[static_cast<uint8_t>(kind)];
    bytes[static_cast<uint8_t>(kind)] += size;
  }
  uint64_t blocks_of(LeakClass kind) const { return blocks[static_cast<uint8_t>(kind)]; }
  uint64_t bytes_of(LeakClass kind) const { return bytes[static_cast<uint8_t>(kind)]; }
  uint64_t total_blocks() const { return lost_blocks() + blocks_of(LeakClass::Reachable); }
  uint64_t total_bytes() const { return lost_bytes() + bytes_of(LeakClass::Reachable); }
  // Leaked: everything but Reachable (an unscanned block counts as definite,
  // as the report counts it).
  uint64_t lost_blocks() const { return blocks[0] + blocks[1] + blocks[2] + blocks[3]; }
  uint64_t lost_bytes() const { return bytes[0] + bytes[1] + bytes[2] + bytes[3]; }
};

class ReachabilityScan {
 public:
  ReachabilityScan() = default;
  ~ReachabilityScan() { release(); }
  ReachabilityScan(const ReachabilityScan&) = delete;
  ReachabilityScan& operator=(const ReachabilityScan&) = delete;

  // Room for `capacity` blocks; false when the memory cannot be mapped.
  bool reserve(size_t capacity);
  // Blocks may come in any order and must not overlap. A `root` block is
  // reachable whatever points to it, and so is what it points to.
  void add_block(uintptr_t address, size_t size, bool root = false);
  // Sorts the blocks; call after the last add_block, before any root.
  void seal();

  // Marks what [begin, end) points to, and everything reachable from there.
  // The range may be unmapped or unreadable, wholly or in part.
  void scan_root(uintptr_t begin, uintptr_t end);
  // Marks what `pointer`, held by a root, points to, and what that reaches.
  void scan_root_pointer(uintptr_t pointer);
  // Marks the root blocks and everything reachable from them.
  void scan_root_blocks();
  // After the last root: floods the leaked blocks, leaders of leaked
  // cycles and trees become Definite and what they reach Indirect.
  void classify_leaks();

  // The class of the block that starts at `address` (NotScanned if none).
  LeakClass class_of(uintptr_t address) const;

  void release();

 private:
  enum State : uint8_t { kUnreached, kPossible, kReachable, kIndirect };
  struct Block {
    uintptr_t address;
    uint64_t size : 55;
    uint64_t state : 7;
    uint64_t queued : 1;
    uint64_t root : 1;
  };

  // A run of blocks with gaps of at most the gap seal() chose between
  // them: blocks_[first, last) span [begin, end).
  struct Region {
    uintptr_t begin, end;
    uint32_t first, last;
  };
  static constexpr size_t kMaxRegions = 2048;

  // Whether `value` is inside the span of all blocks: most words the scan
  // reads are not, and are turned away here, inline, rather than by a call.
  bool in_span(uintptr_t value) const { return value - span_begin_ < span_bytes_; }
  // The block that `value` points into, or -1.
  ptrdiff_t block_at(uintptr_t value) const;
  // Groups the sorted blocks into at most kMaxRegions regions.
  void build_regions();
  ptrdiff_t find_start(uintptr_t address) const;
  // Scans [begin, end) with `visit(word)` for every aligned word.
  template <typename Visit>
  void scan_range(uintptr_t begin, uintptr_t end, bool safe, Visit&& visit);
  void push(size_t index);
  // Marking from roots and reachable blocks (valgrind's "without clique").
  void mark_from(uintptr_t value, bool from_reachable);
  void drain_marks();
  // Flooding from one leaked leader (valgrind's "with clique").
  void flood_leaked(size_t leader);

  Block* blocks_ = nullptr;
  size_t* stack_ = nullptr;  // blocks waiting to be scanned; each at most once (queued)
  unsigned char* buffer_ = nullptr;  // where root memory is copied to be read safely
  size_t capacity_ = 0;
  size_t count_ = 0;
  size_t stack_size_ = 0;
  // [span_begin_, span_begin_ + span_bytes_) holds every block (seal()):
  // most words the scan reads (zeros, counts, pointers into code, stacks
  // and globals) fall outside it and need no search.
  uintptr_t span_begin_ = 0;
  uintptr_t span_bytes_ = 0;
  // Inside the span, most such words still point elsewhere: into the
  // program's own mappings between libc's heaps (a compiler's GC heap, a
  // runtime's arenas). Searching the few regions first, a table that
  // stays in cache, turns those away without a search of every block
  // (cc1plus: the search was three quarters of the scan), and narrows it
  // for the rest.
  Region* regions_ = nullptr;  // kMaxRegions of them
  size_t region_count_ = 0;
};

}  // namespace nantrack
