// The trace file: the one place its layout is defined. The writer
// (tracker/trace_writer) and the reader (report/trace_reader) both follow it.
//
// A trace is a 16-byte FileHeader followed by records. Every record is a
// RecordHeader {type, payload size} and then exactly `size` payload bytes.
// All integers are little-endian and unaligned (read them with memcpy).
// Strings are a u32 length followed by that many bytes, no terminator.
//
// Order of records in a complete trace:
//   Process, Snapshot?, Module*, Stack*, (LiveBlocks* | LiveBlocksUnknown),
//   Error*, ErrorRepeats*,
//   Counters, End, then any number of late records (Stack, LateAllocation,
//   LateFree, Error, ErrorRepeats) for what happened after the snapshot:
//   other libraries' destructors run after ours and free memory, and those
//   frees must still count.
// A file without End was cut short (killed while writing, or disk full).
// A snapshot trace (nantrack.<pid>.snapshot-<n>.trace, written while the
// process goes on) has a Snapshot record, no Error records (errors belong
// to the process's own trace) and no late records.
// Readers skip record types they do not know, so adding one is compatible;
// changing a payload layout needs a new kFormatVersion.
#pragma once

#include <cstddef>
#include <cstdint>

namespace nantrack::trace_format {

inline constexpr char kMagic[8] = {'N', 'A', 'N', 'T', 'R', 'A', 'C', 'E'};
inline constexpr uint32_t kFormatVersion = 3;
// Version 3 only added the Snapshot record, which version 2 traces cannot
// have: they read as they are, so traces written before stay reportable.
inline constexpr uint32_t kOldestReadableVersion = 2;

struct FileHeader {
  char magic[8];
  uint32_t version;
  uint32_t header_size;  // sizeof(FileHeader); lets a later version grow it
};
static_assert(sizeof(FileHeader) == 16);

enum class RecordType : uint32_t {
  Process = 1,
  Module = 2,
  Stack = 3,
  LiveBlocks = 4,
  Error = 5,
  Counters = 6,
  End = 7,
  LateAllocation = 8,
  LateFree = 9,
  Snapshot = 10,  // version 3
  ErrorRepeats = 11,  // version 3, added later: older readers skip it
  LiveBlocksUnknown = 12,  // version 3, added later: older readers skip it
};

struct RecordHeader {
  uint32_t type;
  uint32_t size;  // payload bytes that follow
};
static_assert(sizeof(RecordHeader) == 8);

// A record never exceeds this; a larger size means a corrupt file.
inline constexpr uint32_t kMaxRecordSize = 64u << 20;

// Process payload:
//   u32 pid, u32 ppid, i64 start_ns, i64 end_ns (CLOCK_REALTIME),
//   i32 exit_status (kUnknownExitStatus if not known), i32 signal (0: none),
//   u32 flags (ProcessFlags), string exe, u32 argc, argc × string arg.
inline constexpr int32_t kUnknownExitStatus = -1;
enum ProcessFlags : uint32_t {
  kCrashed = 1u << 0,          // written from a fatal signal handler
  kExitedViaUnderscoreExit = 1u << 1,  // _exit/_Exit: no destructors ran
  kForkedChild = 1u << 2,      // created by fork(): inherited the parent's blocks
  // __lsan_do_leak_check() made the process's leak check earlier (its
  // snapshot trace): blocks live here are not what the process leaked.
  kLeakCheckDone = 1u << 3,
  // malloc resolves to a definition before ours (the program's own
  // allocator, linked in statically): what it allocates is not seen.
  kOwnAllocator = 1u << 4,
};

// Snapshot payload (version 3): u32 sequence (1, 2, ... per process, the
// <n> of the file name), u8 trigger (SnapshotTrigger, tracker/kinds.h).
inline constexpr size_t kSnapshotSize = 4 + 1;

// Module payload: one loaded object (executable, library, vdso).
//   u64 load_bias (dl_phdr_info::dlpi_addr), u32 flags (ModuleFlags),
//   string path, string build_id (raw bytes, may be empty),
//   u32 segment_count, segment_count × Segment.
struct Segment {
  uint64_t start;        // absolute runtime address
  uint64_t size;         // p_memsz
  uint64_t file_offset;  // p_offset
  uint32_t flags;        // p_flags (PF_X, PF_W, PF_R)
};
inline constexpr size_t kSegmentSize = 8 + 8 + 8 + 4;
enum ModuleFlags : uint32_t {
  kUnloaded = 1u << 0,  // dlclose'd before the trace was written
};

// Stack payload: u32 id, u32 depth, depth × u64 pc. Innermost frame first;
// each pc is a return address minus one, so it lies inside the call
// instruction and symbolizes to the calling line. Id 0 means "no stack"
// and is never written.
inline constexpr uint32_t kNoStack = 0;

// LiveBlocks payload: u32 count, count × LiveBlockEntry (packed).
// LateAllocation payload: exactly one LiveBlockEntry.
//   u64 address, u64 size, u32 stack_id, u32 thread_id, u8 alloc_kind,
//   u8 leak_kind (version 2): the leak scan's verdict, 0 not scanned
//   (fatal signal: report as definite), 1 definite, 2 indirect, 3 possible,
//   4 reachable (tracker/reachability.h). A block the program told the
//   scan to ignore (__lsan_ignore_object, __lsan_disable) is a root of the
//   scan and written as reachable. A late allocation, made after the scan
//   by a thread still running, is written as reachable when the trace was
//   scanned (not checked: the report says so), as not scanned otherwise.
inline constexpr size_t kLiveBlockEntrySize = 8 + 8 + 4 + 4 + 1 + 1;
inline constexpr uint32_t kMaxBlocksPerRecord = 4096;

// LiveBlocksUnknown payload: none. In place of LiveBlocks, in a trace
// written from a fatal signal: the blocks live could not be listed, because
// the signal came while this thread was inside nantrack's block tables (or
// another thread held them past the wait). The trace then says nothing of
// what leaked.

// LateFree payload: u64 address.

// Error payload:
//   u8 kind (ErrorKind), u8 alloc_kind (0: unknown), u8 dealloc_kind,
//   u8 invalid_pointer (InvalidPointer), u32 thread_id,
//   u64 address, u64 block_address (the block it concerns; for an interior
//   pointer the block it points into), u64 block_size,
//   u32 stack_id (the bad call), u32 alloc_stack_id, u32 free_stack_id,
//   (version 2) u8 overflow_side (OverflowSide), u32 bytes_changed,
//   u64 first_changed_offset.
// dealloc_kind is 0 (DeallocKind::None) for a heap overflow or a write after
// free found when the block left quarantine or at exit: no call was bad.
// first_changed_offset: for OverflowSide::Before, how far before the block's
// start the changed byte nearest to it lies (1: the byte just before); else
// the offset of the first changed byte from the block's start.
inline constexpr size_t kErrorSize = 4 + 4 + 8 + 8 + 8 + 4 + 4 + 4 + 1 + 4 + 8;

// ErrorRepeats payload: u32 error_index, u64 more. The error_index-th Error
// record of the trace (0 first) came `more` times again after the one it
// describes: the same kind from the same call with the same stacks. It
// follows that Error record; several may name the same one, and add up.
inline constexpr size_t kErrorRepeatsSize = 4 + 8;

// Counters payload, counted like valgrind's "total heap usage"
// (a successful realloc of a non-null pointer is one allocation and one free):
//   u64 allocations, u64 frees, u64 bytes_allocated, u64 peak_live_bytes.
inline constexpr size_t kCountersSize = 4 * 8;

// End payload: empty.

}  // namespace nantrack::trace_format
