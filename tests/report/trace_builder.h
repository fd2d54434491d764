// Test helper: writes trace files byte by byte as tracker/trace_format.h lays
// them out, without the tracker's writer, so tests can build exactly the trace
// they need -- and break it on purpose (out-of-range enums go through as
// written, raw records and headers can say anything).
#pragma once

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <gtest/gtest.h>

#include "report/trace.h"
#include "tracker/trace_format.h"

namespace nantrack::testing {

namespace tf = trace_format;

// Appends little-endian fields: a record's payload, or a whole file.
class Bytes {
 public:
  template <typename T>
  Bytes& put(T value) {
    static_assert(std::is_integral_v<T> || std::is_enum_v<T>, "fields are integers and enums");
    const auto* raw = reinterpret_cast<const uint8_t*>(&value);
    data_.insert(data_.end(), raw, raw + sizeof value);
    return *this;
  }
  Bytes& put_string(std::string_view text) {
    put(static_cast<uint32_t>(text.size()));
    data_.insert(data_.end(), text.begin(), text.end());
    return *this;
  }
  Bytes& append(std::span<const uint8_t> bytes) {
    data_.insert(data_.end(), bytes.begin(), bytes.end());
    return *this;
  }
  std::vector<uint8_t>& data() { return data_; }
  const std::vector<uint8_t>& data() const { return data_; }

 private:
  std::vector<uint8_t> data_;
};

// ---- Payloads, one per record type ------------------------------------------

inline Bytes process_payload(const ProcessInfo& process) {
  uint32_t flags = 0;
  if (process.crashed) flags |= tf::kCrashed;
  if (process.exited_via_underscore_exit) flags |= tf::kExitedViaUnderscoreExit;
  if (process.forked_child) flags |= tf::kForkedChild;
  if (process.leak_check_done) flags |= tf::kLeakCheckDone;
  if (process.own_allocator) flags |= tf::kOwnAllocator;
  Bytes payload;
  payload.put(process.pid).put(process.ppid).put(process.start_ns).put(process.end_ns);
  payload.put(process.exit_status.value_or(tf::kUnknownExitStatus)).put(process.signal).put(flags);
  payload.put_string(process.exe).put(static_cast<uint32_t>(process.argv.size()));
  for (const std::string& arg : process.argv) payload.put_string(arg);
  return payload;
}

inline Bytes module_payload(const Module& module) {
  Bytes payload;
  payload.put(module.load_bias).put(module.unloaded ? uint32_t{tf::kUnloaded} : uint32_t{0});
  payload.put_string(module.path).put_string(module.build_id);
  payload.put(static_cast<uint32_t>(module.segments.size()));
  for (const Segment& segment : module.segments) {
    payload.put(segment.start).put(segment.size).put(segment.file_offset).put(segment.flags);
  }
  return payload;
}

inline Bytes stack_payload(StackId id, const Stack& pcs) {
  Bytes payload;
  payload.put(id).put(static_cast<uint32_t>(pcs.size()));
  for (const uint64_t pc : pcs) payload.put(pc);
  return payload;
}

inline Bytes& put_live_block(Bytes& payload, const LiveBlock& block) {
  return payload.put(block.address).put(block.size).put(block.stack).put(block.thread).put(block.kind).put(block.leak_kind);
}

inline Bytes live_blocks_payload(std::span<const LiveBlock> blocks) {
  Bytes payload;
  payload.put(static_cast<uint32_t>(blocks.size()));
  for (const LiveBlock& block : blocks) put_live_block(payload, block);
  return payload;
}

inline Bytes error_payload(const ErrorEvent& error) {
  Bytes payload;
  payload.put(error.kind).put(error.alloc_kind.value_or(AllocKind{0})).put(error.dealloc_kind);
  payload.put(error.invalid_pointer).put(error.thread);
  payload.put(error.address).put(error.block_address).put(error.block_size);
  payload.put(error.stack).put(error.alloc_stack).put(error.free_stack);
  payload.put(error.overflow_side).put(error.bytes_changed).put(error.first_changed_offset);
  return payload;
}

inline Bytes counters_payload(const Counters& counters) {
  Bytes payload;
  payload.put(counters.allocations).put(counters.frees).put(counters.bytes_allocated);
  payload.put(counters.peak_live_bytes);
  return payload;
}

// ---- Whole files ------------------------------------------------------------

class TraceBuilder {
 public:
  // Starts with a valid file header of the given version.
  explicit TraceBuilder(uint32_t version = tf::kFormatVersion) {
    for (const char c : tf::kMagic) file_.put(c);
    file_.put(version).put(static_cast<uint32_t>(sizeof(tf::FileHeader)));
  }

  // Any record, including unknown types and payloads that do not match them.
  TraceBuilder& record(uint32_t type, const Bytes& payload) {
    file_.put(type).put(static_cast<uint32_t>(payload.data().size())).append(payload.data());
    return *this;
  }
  TraceBuilder& record(tf::RecordType type, const Bytes& payload) {
    return record(static_cast<uint32_t>(type), payload);
  }

  TraceBuilder& process(const ProcessInfo& process) {
    return record(tf::RecordType::Process, process_payload(process));
  }
  TraceBuilder& snapshot_record(const SnapshotInfo& snapshot) {
    return record(tf::RecordType::Snapshot, Bytes().put(snapshot.sequence).put(snapshot.trigger));
  }
  TraceBuilder& module(const Module& module) {
    return record(tf::RecordType::Module, module_payload(module));
  }
  TraceBuilder& stack(StackId id, const Stack& pcs) {
    return record(tf::RecordType::Stack, stack_payload(id, pcs));
  }
  TraceBuilder& live_blocks(std::span<const LiveBlock> blocks) {
    return record(tf::RecordType::LiveBlocks, live_blocks_payload(blocks));
  }
  TraceBuilder& error(const ErrorEvent& error) { return record(tf::RecordType::Error, error_payload(error)); }
  TraceBuilder& error_repeats(uint32_t index, uint64_t more) {
    return record(tf::RecordType::ErrorRepeats, Bytes().put(index).put(more));
  }
  TraceBuilder& counters(const Counters& counters) {
    return record(tf::RecordType::Counters, counters_payload(counters));
  }
  TraceBuilder& end() { return record(tf::RecordType::End, Bytes()); }
  TraceBuilder& late_allocation(const LiveBlock& block) {
    Bytes payload;
    return record(tf::RecordType::LateAllocation, put_live_block(payload, block));
  }
  TraceBuilder& late_free(uint64_t address) { return record(tf::RecordType::LateFree, Bytes().put(address)); }

  // Everything in `trace` in the order a complete trace has it, up to End.
  TraceBuilder& snapshot(const Trace& trace) {
    process(trace.process);
    if (trace.process.snapshot) snapshot_record(*trace.process.snapshot);
    for (const Module& each : trace.modules) module(each);
    for (const auto& [id, pcs] : trace.stacks) stack(id, pcs);
    const std::span<const LiveBlock> blocks = trace.live_blocks;
    if (trace.process.live_blocks_unknown) record(tf::RecordType::LiveBlocksUnknown, Bytes());
    for (size_t first = 0; first < blocks.size(); first += tf::kMaxBlocksPerRecord) {
      live_blocks(blocks.subspan(first, std::min<size_t>(tf::kMaxBlocksPerRecord, blocks.size() - first)));
    }
    for (const ErrorEvent& each : trace.errors) error(each);
    for (size_t i = 0; i < trace.errors.size(); ++i)
      if (trace.errors[i].occurrences > 1) error_repeats(static_cast<uint32_t>(i), trace.errors[i].occurrences - 1);
    return counters(trace.counters).end();
  }

  std::vector<uint8_t>& bytes() { return file_.data(); }

  void write(const std::string& path) const {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(file_.data().data()),
              static_cast<std::streamsize>(file_.data().size()));
    ASSERT_TRUE(out.good()) << "cannot write " << path;
  }

 private:
  Bytes file_;
};

// A fresh path under the test temp directory, removed (with whatever it
// became: file or directory) when the test is done with it.
class TempPath {
 public:
  explicit TempPath(std::string_view name) {
    static std::atomic<int> counter = 0;
    path_ = std::filesystem::path(::testing::TempDir()) /
            (std::to_string(::getpid()) + "-" + std::to_string(counter++) + "-" + std::string(name));
  }
  TempPath(const TempPath&) = delete;
  TempPath& operator=(const TempPath&) = delete;
  ~TempPath() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  std::string str() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

// A small but complete trace that sets every field to something other than
// its default: the modules cover the pcs of stacks 1-3, stack 4 lies outside.
inline Trace sample_trace() {
  Trace trace;
  trace.process = {.pid = 4242,
                   .ppid = 17,
                   .start_ns = 1'700'000'000'000'000'000,
                   .end_ns = 1'700'000'001'250'000'000,
                   .exit_status = 3,
                   .signal = 6,
                   .crashed = true,
                   .exited_via_underscore_exit = true,
                   .forked_child = true,
                   .exe = "/usr/bin/app",
                   .argv = {"./app", "--name", "two words", ""}};
  trace.modules = {
      {.path = "/usr/bin/app",
       .build_id = std::string("\x8a\x1f\x00\xff", 4),
       .load_bias = 0x555555554000,
       .segments = {{0x555555554000, 0x1000, 0, 4}, {0x555555555000, 0x2000, 0x1000, 5}}},
      {.path = "/usr/lib/libplugin.so",
       .load_bias = 0x7f0000000000,
       .unloaded = true,
       .segments = {{0x7f0000001000, 0x1000, 0x1000, 5}}},
  };
  trace.stacks = {{1, {0x555555555a10, 0x555555555b20}},
                  {2, {0x7f0000001234}},
                  {3, {0x555555555c30, 0x7f0000001300, 0x555555555d40}},
                  {4, {0x1234}}};
  trace.live_blocks = {{0x10000, 100, 1, 1, AllocKind::Malloc},
                       {0x20000, 200, 2, 2, AllocKind::NewArray},
                       {0x30000, 300, 1, 1, AllocKind::New},
                       {0x40000, 7, 0, 3, AllocKind::PosixMemalign}};
  trace.errors = {
      {.kind = ErrorKind::DoubleFree,
       .alloc_kind = AllocKind::Malloc,
       .dealloc_kind = DeallocKind::Free,
       .thread = 1,
       .address = 0x50000,
       .block_address = 0x50000,
       .block_size = 24,
       .stack = 3,
       .alloc_stack = 1,
       .free_stack = 2},
      {.kind = ErrorKind::InvalidFree,
       .dealloc_kind = DeallocKind::DeleteArray,
       .invalid_pointer = InvalidPointer::Interior,
       .thread = 2,
       .address = 0x20010,
       .block_address = 0x20000,
       .block_size = 200,
       .stack = 4},
  };
  trace.counters = {.allocations = 10, .frees = 6, .bytes_allocated = 2000, .peak_live_bytes = 900};
  return trace;
}

}  // namespace nantrack::testing
