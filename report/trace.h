// A trace file as the report side sees it: plain data, loaded by
// read_trace() (report/trace_reader.h) with late records already applied
// (blocks freed by other libraries' destructors after the snapshot are gone
// from live_blocks and counted in counters.frees).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tracker/kinds.h"

namespace nantrack {

using StackId = uint32_t;
using Stack = std::vector<uint64_t>;  // pcs, innermost first (return address - 1)

struct Segment {
  uint64_t start = 0;  // absolute runtime address
  uint64_t size = 0;
  uint64_t file_offset = 0;
  uint32_t flags = 0;  // PF_R | PF_W | PF_X
};

struct Module {
  std::string path;
  std::string build_id;  // raw bytes; empty when the module has none
  uint64_t load_bias = 0;
  bool unloaded = false;  // dlclose'd before the trace was written
  std::vector<Segment> segments;

  bool contains(uint64_t address) const;
};

// Bytes (a build-id) in lowercase hex, as debug-file trees and tools name them.
std::string hex_of(std::string_view bytes);

// A snapshot trace, written while the process went on (tracker/trace_format.h).
struct SnapshotInfo {
  uint32_t sequence = 0;  // 1, 2, ... per process
  SnapshotTrigger trigger = SnapshotTrigger::Check;

  bool operator==(const SnapshotInfo&) const = default;
};

struct ProcessInfo {
  uint32_t pid = 0;
  uint32_t ppid = 0;
  int64_t start_ns = 0;
  int64_t end_ns = 0;
  std::optional<int32_t> exit_status;  // empty when unknown
  int32_t signal = 0;                  // fatal signal, 0 if none
  bool crashed = false;
  bool exited_via_underscore_exit = false;
  bool forked_child = false;
  // __lsan_do_leak_check() made the leak check earlier, in a snapshot:
  // blocks live in this (final) trace are not what the process leaked.
  bool leak_check_done = false;
  bool own_allocator = false;  // malloc was the program's own: nothing it allocated was seen
  // A fatal signal came inside nantrack's block tables: the blocks live
  // then were not listed (LiveBlocksUnknown), so what leaked is unknown.
  bool live_blocks_unknown = false;
  // Blocks allocated after the leak check by threads still running while
  // the process ended, and still live then: not checked, counted as
  // reachable (tracker/trace_format.h).
  uint64_t unchecked_late_blocks = 0;
  uint64_t unchecked_late_bytes = 0;
  std::optional<SnapshotInfo> snapshot;  // from the Snapshot record; empty in a process's own trace
  std::string exe;
  std::vector<std::string> argv;
};

struct LiveBlock {
  uint64_t address = 0;
  uint64_t size = 0;
  StackId stack = 0;
  uint32_t thread = 0;
  AllocKind kind = AllocKind::Malloc;
  // The leak scan's verdict, as in the trace (trace_format.h): 0 not
  // scanned, 1 definite, 2 indirect, 3 possible, 4 reachable.
  uint8_t leak_kind = 0;
};

struct ErrorEvent {
  ErrorKind kind = ErrorKind::InvalidFree;
  std::optional<AllocKind> alloc_kind;
  DeallocKind dealloc_kind = DeallocKind::Free;  // None: damage found without a deallocation call
  InvalidPointer invalid_pointer = InvalidPointer::None;
  uint32_t thread = 0;
  uint64_t address = 0;
  uint64_t block_address = 0;
  uint64_t block_size = 0;
  StackId stack = 0;
  StackId alloc_stack = 0;  // 0 when unknown
  StackId free_stack = 0;   // 0 when unknown
  // Heap overflow and write after free: what changed (tracker/trace_format.h).
  OverflowSide overflow_side = OverflowSide::None;
  uint32_t bytes_changed = 0;
  uint64_t first_changed_offset = 0;
  // How many times it came: the same kind from the same call with the same
  // stacks (tracker/error_log.h). The fields above describe the first.
  uint64_t occurrences = 1;
};

struct Counters {
  uint64_t allocations = 0;
  uint64_t frees = 0;
  uint64_t bytes_allocated = 0;
  uint64_t peak_live_bytes = 0;
};

struct Trace {
  std::string path;  // the file it was read from
  ProcessInfo process;
  std::vector<Module> modules;
  std::unordered_map<StackId, Stack> stacks;
  std::vector<LiveBlock> live_blocks;
  std::vector<ErrorEvent> errors;
  Counters counters;

  // The stack with this id; an empty stack for kNoStack or an unknown id.
  const Stack& stack(StackId id) const;
  // The module whose segments contain this address, or nullptr.
  const Module* module_at(uint64_t address) const;
};

}  // namespace nantrack
