#include "report/trace_payload.h"

#include "tracker/trace_format.h"

namespace nantrack::trace_payload {

namespace tf = trace_format;

namespace {

template <typename Enum>
Enum read_enum(PayloadReader& in, uint8_t min, uint8_t max, std::string_view what) {
  const auto value = in.read<uint8_t>();
  if (value < min || value > max) malformed("has {} {}, expected {}-{}", what, value, min, max);
  return static_cast<Enum>(value);
}

}  // namespace

// Flag bits not known here are ignored: like record types, a writer may add
// them without changing any payload layout.
ProcessInfo read_process(PayloadReader& in) {
  ProcessInfo process;
  process.pid = in.read<uint32_t>();
  process.ppid = in.read<uint32_t>();
  process.start_ns = in.read<int64_t>();
  process.end_ns = in.read<int64_t>();
  const auto exit_status = in.read<int32_t>();
  if (exit_status != tf::kUnknownExitStatus) process.exit_status = exit_status;
  process.signal = in.read<int32_t>();
  if (process.signal < 0 || process.signal > 64) malformed("has signal {}", process.signal);
  const auto flags = in.read<uint32_t>();
  process.crashed = flags & tf::kCrashed;
  process.exited_via_underscore_exit = flags & tf::kExitedViaUnderscoreExit;
  process.forked_child = flags & tf::kForkedChild;
  process.leak_check_done = flags & tf::kLeakCheckDone;
  process.own_allocator = flags & tf::kOwnAllocator;
  process.exe = in.read_string();
  const auto argc = in.read<uint32_t>();
  // Every argument takes at least its 4-byte length.
  if (argc > in.remaining() / sizeof(uint32_t)) {
    malformed("claims {} arguments but has {} bytes", argc, in.remaining());
  }
  process.argv.reserve(argc);
  for (uint32_t i = 0; i < argc; ++i) process.argv.push_back(in.read_string());
  in.expect_consumed();
  return process;
}

Module read_module(PayloadReader& in) {
  Module module;
  module.load_bias = in.read<uint64_t>();
  module.unloaded = in.read<uint32_t>() & tf::kUnloaded;
  module.path = in.read_string();
  module.build_id = in.read_string();
  const auto segment_count = in.read<uint32_t>();
  in.expect_items(segment_count, tf::kSegmentSize, "segments");
  module.segments.resize(segment_count);
  for (Segment& segment : module.segments) {
    segment.start = in.read<uint64_t>();
    segment.size = in.read<uint64_t>();
    segment.file_offset = in.read<uint64_t>();
    segment.flags = in.read<uint32_t>();
    if (segment.size > UINT64_MAX - segment.start) {
      malformed("has a segment at {:#x} of {} bytes, past the end of the address space", segment.start,
                segment.size);
    }
  }
  return module;
}

std::pair<StackId, Stack> read_stack(PayloadReader& in) {
  const auto id = in.read<uint32_t>();
  if (id == tf::kNoStack) malformed("has id 0, which means \"no stack\"");
  const auto depth = in.read<uint32_t>();
  in.expect_items(depth, sizeof(uint64_t), "frames");
  Stack pcs(depth);
  for (uint64_t& pc : pcs) pc = in.read<uint64_t>();
  return {id, std::move(pcs)};
}

LiveBlock read_live_block(PayloadReader& in) {
  LiveBlock block;
  block.address = in.read<uint64_t>();
  block.size = in.read<uint64_t>();
  block.stack = in.read<uint32_t>();
  block.thread = in.read<uint32_t>();
  block.kind = read_enum<AllocKind>(in, 1, kMaxAllocKind, "allocation kind");
  block.leak_kind = in.read<uint8_t>();
  if (block.leak_kind > 4) malformed("has leak kind {}, expected 0 to 4", block.leak_kind);
  return block;
}

void read_live_blocks(PayloadReader& in, std::vector<LiveBlock>& blocks) {
  const auto count = in.read<uint32_t>();
  if (count > tf::kMaxBlocksPerRecord) {
    malformed("claims {} blocks, more than the {} a record may hold", count, tf::kMaxBlocksPerRecord);
  }
  in.expect_items(count, tf::kLiveBlockEntrySize, "blocks");
  for (uint32_t i = 0; i < count; ++i) blocks.push_back(read_live_block(in));
}

ErrorEvent read_error(PayloadReader& in) {
  in.expect_size(tf::kErrorSize);
  ErrorEvent error;
  error.kind = read_enum<ErrorKind>(in, 1, kMaxErrorKind, "error kind");
  const auto alloc_kind = read_enum<AllocKind>(in, 0, kMaxAllocKind, "allocation kind");
  if (alloc_kind != AllocKind{0}) error.alloc_kind = alloc_kind;
  // Damage found on leaving quarantine or at exit has no deallocation call.
  const bool damage = error.kind == ErrorKind::HeapOverflow || error.kind == ErrorKind::WriteAfterFree;
  error.dealloc_kind = read_enum<DeallocKind>(in, damage ? 0 : 1, kMaxDeallocKind, "deallocation kind");
  error.invalid_pointer = read_enum<InvalidPointer>(in, 0, kMaxInvalidPointer, "invalid-pointer reason");
  error.thread = in.read<uint32_t>();
  error.address = in.read<uint64_t>();
  error.block_address = in.read<uint64_t>();
  error.block_size = in.read<uint64_t>();
  error.stack = in.read<uint32_t>();
  error.alloc_stack = in.read<uint32_t>();
  error.free_stack = in.read<uint32_t>();
  error.overflow_side = read_enum<OverflowSide>(in, 0, kMaxOverflowSide, "overflow side");
  error.bytes_changed = in.read<uint32_t>();
  error.first_changed_offset = in.read<uint64_t>();
  return error;
}

Counters read_counters(PayloadReader& in) {
  in.expect_size(tf::kCountersSize);
  Counters counters;
  counters.allocations = in.read<uint64_t>();
  counters.frees = in.read<uint64_t>();
  counters.bytes_allocated = in.read<uint64_t>();
  counters.peak_live_bytes = in.read<uint64_t>();
  return counters;
}

SnapshotInfo read_snapshot(PayloadReader& in) {
  in.expect_size(tf::kSnapshotSize);
  SnapshotInfo snapshot;
  snapshot.sequence = in.read<uint32_t>();
  if (snapshot.sequence == 0) malformed("has sequence number 0; snapshots count from 1");
  snapshot.trigger = read_enum<SnapshotTrigger>(in, 1, kMaxSnapshotTrigger, "trigger");
  return snapshot;
}

}  // namespace nantrack::trace_payload
