#include "report/trace_reader.h"

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include "tests/report/trace_builder.h"

namespace nantrack {

// Field-by-field views, so gtest can compare the structs and print the
// difference. In namespace nantrack so that argument-dependent lookup finds
// them from all_fields().
auto fields(const ProcessInfo& p) {
  return std::tie(p.pid, p.ppid, p.start_ns, p.end_ns, p.exit_status, p.signal, p.crashed,
                  p.exited_via_underscore_exit, p.forked_child, p.leak_check_done, p.own_allocator,
                  p.live_blocks_unknown, p.snapshot, p.exe, p.argv);
}
auto fields(const Segment& s) { return std::tie(s.start, s.size, s.file_offset, s.flags); }
auto fields(const LiveBlock& b) { return std::tie(b.address, b.size, b.stack, b.thread, b.kind); }
auto fields(const ErrorEvent& e) {
  return std::tie(e.kind, e.alloc_kind, e.dealloc_kind, e.invalid_pointer, e.thread, e.address,
                  e.block_address, e.block_size, e.stack, e.alloc_stack, e.free_stack, e.occurrences);
}
auto fields(const Counters& c) {
  return std::tie(c.allocations, c.frees, c.bytes_allocated, c.peak_live_bytes);
}

template <typename T>
auto all_fields(const std::vector<T>& items) {
  std::vector<std::remove_cvref_t<decltype(fields(items.front()))>> all;
  for (const T& item : items) all.push_back(fields(item));
  return all;
}

auto fields(const Module& m) {
  return std::make_tuple(m.path, m.build_id, m.load_bias, m.unloaded, all_fields(m.segments));
}

void expect_same(const Trace& actual, const Trace& expected) {
  EXPECT_EQ(fields(actual.process), fields(expected.process));
  EXPECT_EQ(all_fields(actual.modules), all_fields(expected.modules));
  EXPECT_EQ(actual.stacks, expected.stacks);
  EXPECT_EQ(all_fields(actual.live_blocks), all_fields(expected.live_blocks));
  EXPECT_EQ(all_fields(actual.errors), all_fields(expected.errors));
  EXPECT_EQ(fields(actual.counters), fields(expected.counters));
}

namespace {

using testing::Bytes;
using testing::sample_trace;
using testing::TempPath;
using testing::TraceBuilder;
namespace tf = trace_format;

constexpr const char* kPath = "test.trace";

Trace parse(const std::vector<uint8_t>& bytes) { return parse_trace(bytes, kPath); }

// The reason parse_trace() gives up, without the common prefix; "" if it does not.
std::string failure_of(const std::vector<uint8_t>& bytes) {
  const std::string prefix = std::string("cannot read trace '") + kPath + "': ";
  try {
    parse(bytes);
  } catch (const TraceError& error) {
    const std::string message = error.what();
    EXPECT_EQ(message.substr(0, prefix.size()), prefix);
    return message.substr(prefix.size());
  }
  return "";
}

// Record 1 is the Process record; the test's own records come after.
TraceBuilder started() {
  TraceBuilder builder;
  builder.process(sample_trace().process);
  return builder;
}

// Adds what a complete trace needs after the test's records.
template <typename Builder>
TraceBuilder& finish(Builder&& builder) {
  return builder.counters({}).end();
}

// ---- Valid traces -------------------------------------------------------------

TEST(trace_reader, RoundTripsEveryRecordTypeAndField) {
  const Trace expected = sample_trace();
  const Trace actual = parse(TraceBuilder().snapshot(expected).bytes());
  expect_same(actual, expected);
  EXPECT_EQ(actual.path, kPath);
}

TEST(trace_reader, RoundTripsASnapshotAndTheLeakCheckFlag) {
  Trace expected = sample_trace();
  expected.process.snapshot = SnapshotInfo{.sequence = 3, .trigger = SnapshotTrigger::Signal};
  expected.process.leak_check_done = true;
  const Trace actual = parse(TraceBuilder().snapshot(expected).bytes());
  expect_same(actual, expected);
  EXPECT_FALSE(parse(TraceBuilder().snapshot(sample_trace()).bytes()).process.snapshot.has_value());
}

// A trace written from a fatal signal inside nantrack's block tables has
// no blocks: a record says so, and the reader keeps it apart from "none".
TEST(trace_reader, RoundTripsLiveBlocksUnknownAndTheOwnAllocatorFlag) {
  Trace expected = sample_trace();
  expected.live_blocks.clear();
  expected.process.crashed = true;
  expected.process.live_blocks_unknown = true;
  expected.process.own_allocator = true;
  const Trace actual = parse(TraceBuilder().snapshot(expected).bytes());
  expect_same(actual, expected);
  EXPECT_TRUE(actual.process.live_blocks_unknown);
  EXPECT_FALSE(parse(TraceBuilder().snapshot(sample_trace()).bytes()).process.live_blocks_unknown);
}

TEST(trace_reader, ReadsAFileFromDisk) {
  const TempPath path("roundtrip.trace");
  TraceBuilder().snapshot(sample_trace()).write(path.str());
  const Trace trace = read_trace(path.str());
  expect_same(trace, sample_trace());
  EXPECT_EQ(trace.path, path.str());
}

TEST(trace_reader, UnknownExitStatusAndMissingAllocKindStayEmpty) {
  Trace expected = sample_trace();
  expected.process.exit_status.reset();
  expected.errors[0].alloc_kind.reset();
  const Trace actual = parse(TraceBuilder().snapshot(expected).bytes());
  EXPECT_FALSE(actual.process.exit_status.has_value());
  EXPECT_FALSE(actual.errors[0].alloc_kind.has_value());
}

TEST(trace_reader, ReadsLiveBlocksSpreadOverManyRecords) {
  Trace expected = sample_trace();
  expected.live_blocks.clear();
  for (uint64_t i = 0; i < 2 * tf::kMaxBlocksPerRecord + 5; ++i) {
    expected.live_blocks.push_back({0x100000 + 16 * i, i, 1, 1, AllocKind::Calloc});
  }
  expect_same(parse(TraceBuilder().snapshot(expected).bytes()), expected);
}

TEST(trace_reader, AppliesLateRecordsInOrder) {
  TraceBuilder builder;
  builder.snapshot(sample_trace())
      .error({.kind = ErrorKind::MismatchedFree, .alloc_kind = AllocKind::New, .stack = 5})
      .stack(5, {0x555555555e50})  // after the error that names it
      .stack(1, sample_trace().stack(1))
      .late_allocation({0x60000, 50, 5, 4, AllocKind::Calloc})
      .late_free(0x10000)
      .late_free(0xdead)  // never seen: ignored
      .late_allocation({0x70000, 8, 0, 4, AllocKind::Malloc})
      .late_free(0x70000);
  const Trace trace = parse(builder.bytes());

  std::vector<LiveBlock> expected_blocks = sample_trace().live_blocks;
  expected_blocks.erase(expected_blocks.begin());
  expected_blocks.push_back({0x60000, 50, 5, 4, AllocKind::Calloc});
  EXPECT_EQ(all_fields(trace.live_blocks), all_fields(expected_blocks));

  const Counters before = sample_trace().counters;
  EXPECT_EQ(trace.counters.allocations, before.allocations + 2);
  EXPECT_EQ(trace.counters.frees, before.frees + 2);
  EXPECT_EQ(trace.counters.bytes_allocated, before.bytes_allocated + 58);
  EXPECT_EQ(trace.counters.peak_live_bytes, before.peak_live_bytes);
  EXPECT_EQ(trace.stack(5), Stack{0x555555555e50});
  ASSERT_EQ(trace.errors.size(), 3u);
  EXPECT_EQ(trace.errors[2].kind, ErrorKind::MismatchedFree);
}

// An error that came again is one Error record and its count: repeats
// written with the trace, and more after it (in late destructors), add up.
TEST(trace_reader, CountsTheRepeatsOfAnError) {
  Trace expected = sample_trace();
  expected.errors[1].occurrences = 100'000;
  TraceBuilder builder;
  builder.snapshot(expected);
  expect_same(parse(builder.bytes()), expected);

  builder.error_repeats(1, 2).error_repeats(0, 1).error_repeats(1, 3);
  const Trace trace = parse(builder.bytes());
  ASSERT_EQ(trace.errors.size(), expected.errors.size());
  EXPECT_EQ(trace.errors[0].occurrences, 2u);
  EXPECT_EQ(trace.errors[1].occurrences, 100'005u);

  builder.error_repeats(0, UINT64_MAX);
  EXPECT_EQ(parse(builder.bytes()).errors[0].occurrences, UINT64_MAX)
      << "a count that would overflow stays at the most";
}

TEST(trace_reader, LateAllocationAtALiveAddressReplacesTheBlock) {
  TraceBuilder builder;
  builder.snapshot(sample_trace()).late_allocation({0x10000, 64, 2, 9, AllocKind::New});
  const Trace trace = parse(builder.bytes());
  ASSERT_EQ(trace.live_blocks.size(), sample_trace().live_blocks.size());
  EXPECT_EQ(fields(trace.live_blocks.back()), fields(LiveBlock{0x10000, 64, 2, 9, AllocKind::New}));
}

// Late allocations the tracker wrote as reachable (after a scanned trace)
// and still live at the end are counted, so the report can say they were
// not checked; those freed again, and those written unscanned, are not.
TEST(trace_reader, CountsTheLateAllocationsLeftUnchecked) {
  TraceBuilder builder;
  builder.snapshot(sample_trace())
      .late_allocation({0x60000, 50, 1, 4, AllocKind::Malloc, 4})
      .late_allocation({0x61000, 70, 1, 4, AllocKind::Malloc, 4})
      .late_allocation({0x62000, 90, 1, 4, AllocKind::Malloc, 4})
      .late_allocation({0x63000, 11, 1, 4, AllocKind::Malloc, 0})
      .late_free(0x61000);
  const Trace trace = parse(builder.bytes());
  EXPECT_EQ(trace.process.unchecked_late_blocks, 2u);
  EXPECT_EQ(trace.process.unchecked_late_bytes, 140u);
  EXPECT_EQ(parse(TraceBuilder().snapshot(sample_trace()).bytes()).process.unchecked_late_blocks, 0u);
}

TEST(trace_reader, SkipsUnknownRecordTypes) {
  const Trace expected = sample_trace();
  TraceBuilder builder;
  builder.record(99, Bytes().put(uint32_t{1})).snapshot(expected).record(1000, Bytes());
  expect_same(parse(builder.bytes()), expected);
}

// ---- Unreadable files -----------------------------------------------------------

TEST(trace_reader, RejectsFilesThatAreNotTraces) {
  EXPECT_EQ(failure_of({}), "empty file");
  EXPECT_EQ(failure_of({'h', 'i'}), "not a nantrack trace (bad magic)");
  EXPECT_EQ(failure_of(std::vector<uint8_t>(100, 0x7f)), "not a nantrack trace (bad magic)");
  EXPECT_EQ(failure_of({'N', 'A', 'N', 'T'}),
            "truncated after 4 of 16 bytes (was the process killed with SIGKILL?)");
}

TEST(trace_reader, ReadsTheVersionBeforeSnapshotsAndRejectsOthers) {
  // Version 2 is version 3 without Snapshot records: traces of the
  // previous release stay reportable.
  expect_same(parse(TraceBuilder(2).snapshot(sample_trace()).bytes()), sample_trace());
  EXPECT_EQ(failure_of(TraceBuilder(7).snapshot(sample_trace()).bytes()),
            "format version 7 is not supported (this nantrack reads versions 2 to 3)");
  EXPECT_EQ(failure_of(TraceBuilder(1).snapshot(sample_trace()).bytes()),
            "format version 1 is not supported (this nantrack reads versions 2 to 3)");
  TraceBuilder builder;
  builder.bytes()[12] = 20;
  EXPECT_EQ(failure_of(builder.bytes()), "header size is 20, format version 3 has 16");
}

TEST(trace_reader, RejectsTruncatedFiles) {
  std::vector<uint8_t> bytes = started().stack(1, {1, 2, 3}).bytes();
  const size_t complete = bytes.size();
  bytes.resize(complete - 4);
  EXPECT_EQ(failure_of(bytes),
            fmt::format("truncated after {} of {} bytes (was the process killed with SIGKILL?)", complete - 4,
                        complete));

  bytes = started().bytes();
  const size_t record_start = bytes.size();
  bytes.insert(bytes.end(), {3, 0, 0});  // 3 of a RecordHeader's 8 bytes
  EXPECT_EQ(failure_of(bytes),
            fmt::format("truncated after {} of {} bytes (was the process killed with SIGKILL?)",
                        record_start + 3, record_start + 8));

  bytes = started().counters({}).bytes();
  EXPECT_EQ(failure_of(bytes),
            fmt::format("truncated after {} bytes: no End record (was the process killed with SIGKILL?)",
                        bytes.size()));
}

TEST(trace_reader, RejectsOversizedRecords) {
  TraceBuilder builder = started();
  Bytes header;
  header.put(tf::RecordType::Stack).put(tf::kMaxRecordSize + 1);
  builder.bytes().insert(builder.bytes().end(), header.data().begin(), header.data().end());
  EXPECT_EQ(failure_of(builder.bytes()),
            "record 2 (Stack) claims 67108865 bytes, more than the 67108864 a record may have");
}

TEST(trace_reader, RejectsBadStackRecords) {
  Bytes lying;
  lying.put(uint32_t{1}).put(uint32_t{5'000'000});
  for (uint64_t pc = 0; pc < 5; ++pc) lying.put(pc);
  EXPECT_EQ(failure_of(finish(started().record(tf::RecordType::Stack, lying)).bytes()),
            "record 2 (Stack) claims 5000000 frames but has 40 bytes");
  EXPECT_EQ(failure_of(finish(started().stack(0, {1})).bytes()),
            "record 2 (Stack) has id 0, which means \"no stack\"");
  EXPECT_EQ(failure_of(finish(started().stack(1, {1}).stack(1, {2})).bytes()),
            "record 3 (Stack) redefines stack 1 with different frames");
}

TEST(trace_reader, RejectsBadLiveBlockRecords) {
  EXPECT_EQ(
      failure_of(finish(started().record(tf::RecordType::LiveBlocks, Bytes().put(uint32_t{4097}))).bytes()),
      "record 2 (LiveBlocks) claims 4097 blocks, more than the 4096 a record may hold");
  Bytes short_of_one = testing::live_blocks_payload(sample_trace().live_blocks);
  short_of_one.data().resize(short_of_one.data().size() - tf::kLiveBlockEntrySize);
  EXPECT_EQ(failure_of(finish(started().record(tf::RecordType::LiveBlocks, short_of_one)).bytes()),
            "record 2 (LiveBlocks) claims 4 blocks but has 78 bytes");
  const std::vector<LiveBlock> bad_kind = {{0x1000, 1, 0, 1, AllocKind{77}}};
  EXPECT_EQ(failure_of(finish(started().live_blocks(bad_kind)).bytes()),
            "record 2 (LiveBlocks) has allocation kind 77, expected 1-12");
  EXPECT_EQ(failure_of(finish(started()).late_allocation({0x1000, 1, 0, 1, AllocKind{0}}).bytes()),
            "record 4 (LateAllocation) has allocation kind 0, expected 1-12");
}

TEST(trace_reader, RejectsBadErrorRecords) {
  const auto failure_with = [](auto&& corrupt) {
    ErrorEvent error = sample_trace().errors[0];
    corrupt(error);
    return failure_of(finish(started().stack(1, {1}).stack(2, {2}).stack(3, {3}).error(error)).bytes());
  };
  EXPECT_EQ(failure_with([](ErrorEvent& e) { e.kind = ErrorKind{6}; }),
            "record 5 (Error) has error kind 6, expected 1-5");
  EXPECT_EQ(failure_with([](ErrorEvent& e) { e.alloc_kind = AllocKind{13}; }),
            "record 5 (Error) has allocation kind 13, expected 0-12");
  EXPECT_EQ(failure_with([](ErrorEvent& e) { e.dealloc_kind = DeallocKind{0}; }),
            "record 5 (Error) has deallocation kind 0, expected 1-6");
  EXPECT_EQ(failure_with([](ErrorEvent& e) { e.invalid_pointer = InvalidPointer{5}; }),
            "record 5 (Error) has invalid-pointer reason 5, expected 0-4");
  EXPECT_EQ(failure_with([](ErrorEvent& e) { e.overflow_side = OverflowSide{3}; }),
            "record 5 (Error) has overflow side 3, expected 0-2");
  EXPECT_EQ(failure_with([](ErrorEvent& e) { e.free_stack = 9; }),
            "error 1 (double_free at 0x50000) refers to stack 9, which the trace does not contain");

  EXPECT_EQ(failure_of(finish(started().stack(1, {1}).stack(2, {2}).stack(3, {3}).error(sample_trace().errors[0])
                                  .error_repeats(1, 5))
                           .bytes()),
            "record 6 (ErrorRepeats) counts repeats of error 2, but the trace has 1 before it");
  EXPECT_EQ(failure_of(finish(started().record(tf::RecordType::ErrorRepeats, Bytes().put(uint32_t{0}))).bytes()),
            "record 2 (ErrorRepeats) has 4 bytes, expected 12");

  Bytes too_long = testing::error_payload(sample_trace().errors[1]);
  too_long.put(uint8_t{0});
  EXPECT_EQ(failure_of(finish(started().record(tf::RecordType::Error, too_long)).bytes()),
            "record 2 (Error) has 58 bytes, expected 57");
}

TEST(trace_reader, RejectsBadProcessRecords) {
  ProcessInfo process = sample_trace().process;
  process.signal = 99;
  EXPECT_EQ(failure_of(finish(TraceBuilder().process(process)).bytes()), "record 1 (Process) has signal 99");

  Bytes trailing = testing::process_payload(sample_trace().process);
  trailing.put(uint8_t{1}).put(uint16_t{2});
  EXPECT_EQ(failure_of(finish(TraceBuilder().record(tf::RecordType::Process, trailing)).bytes()),
            "record 1 (Process) has 3 bytes after its last field");

  Bytes huge_argc;
  huge_argc.put(uint32_t{1}).put(uint32_t{0}).put(int64_t{0}).put(int64_t{0}).put(int32_t{0}).put(int32_t{0});
  huge_argc.put(uint32_t{0}).put_string("exe").put(uint32_t{1'000'000});
  EXPECT_EQ(failure_of(finish(TraceBuilder().record(tf::RecordType::Process, huge_argc)).bytes()),
            "record 1 (Process) claims 1000000 arguments but has 0 bytes");

  Bytes cut = testing::process_payload(sample_trace().process);
  cut.data().resize(10);
  EXPECT_EQ(failure_of(finish(TraceBuilder().record(tf::RecordType::Process, cut)).bytes()),
            "record 1 (Process) ends in the middle of a field");
}

TEST(trace_reader, RejectsBadModuleRecords) {
  Bytes long_string;
  long_string.put(uint64_t{0}).put(uint32_t{0}).put(uint32_t{1000}).put(uint64_t{0});
  EXPECT_EQ(failure_of(finish(started().record(tf::RecordType::Module, long_string)).bytes()),
            "record 2 (Module) has a string of 1000 bytes but only 8 bytes left");

  Module module = sample_trace().modules[1];
  Bytes extra_segments = testing::module_payload(module);
  // segment_count follows load_bias, flags, the path and the empty build-id.
  extra_segments.data()[8 + 4 + 4 + module.path.size() + 4] = 3;
  EXPECT_EQ(failure_of(finish(started().record(tf::RecordType::Module, extra_segments)).bytes()),
            "record 2 (Module) claims 3 segments but has 28 bytes");

  module.segments = {{0xfffffffffffff000, 0x2000, 0, 5}};
  EXPECT_EQ(failure_of(finish(started().module(module)).bytes()),
            "record 2 (Module) has a segment at 0xfffffffffffff000 of 8192 bytes, past the end of the "
            "address space");
}

TEST(trace_reader, RejectsWrongFixedSizes) {
  Bytes short_counters = testing::counters_payload({});
  short_counters.data().pop_back();
  EXPECT_EQ(failure_of(started().record(tf::RecordType::Counters, short_counters).end().bytes()),
            "record 2 (Counters) has 31 bytes, expected 32");
  EXPECT_EQ(failure_of(started().counters({}).record(tf::RecordType::End, Bytes().put(uint8_t{0})).bytes()),
            "record 3 (End) has 1 bytes, expected 0");
  EXPECT_EQ(failure_of(finish(started()).record(tf::RecordType::LateFree, Bytes().put(uint32_t{1})).bytes()),
            "record 4 (LateFree) has 4 bytes, expected 8");
}

TEST(trace_reader, RejectsMissingDuplicatedAndMisplacedRecords) {
  EXPECT_EQ(failure_of(TraceBuilder().counters({}).end().bytes()), "no Process record");
  EXPECT_EQ(failure_of(started().end().bytes()), "no Counters record");
  EXPECT_EQ(failure_of(finish(started().process(sample_trace().process)).bytes()),
            "record 2 (Process) appears a second time");
  EXPECT_EQ(failure_of(started().counters({}).counters({}).end().bytes()),
            "record 3 (Counters) appears a second time");
  EXPECT_EQ(failure_of(finish(started()).module(sample_trace().modules[0]).bytes()),
            "record 4 (Module) comes after the End record");
  EXPECT_EQ(failure_of(finish(started()).end().bytes()), "record 4 (End) comes after the End record");
  EXPECT_EQ(failure_of(finish(started().late_free(0x1000)).bytes()),
            "record 2 (LateFree) comes before the End record");
  EXPECT_EQ(failure_of(finish(started()).record(tf::RecordType::LiveBlocksUnknown, Bytes()).bytes()),
            "record 4 (LiveBlocksUnknown) comes after the End record");
  EXPECT_EQ(failure_of(finish(started().record(tf::RecordType::LiveBlocksUnknown, Bytes().put(uint8_t{1}))).bytes()),
            "record 2 (LiveBlocksUnknown) has 1 bytes, expected 0");
}

TEST(trace_reader, RejectsBadSnapshotRecords) {
  const SnapshotInfo valid{.sequence = 1, .trigger = SnapshotTrigger::Check};
  EXPECT_EQ(failure_of(finish(started().snapshot_record({.sequence = 0})).bytes()),
            "record 2 (Snapshot) has sequence number 0; snapshots count from 1");
  EXPECT_EQ(failure_of(finish(started().record(tf::RecordType::Snapshot, Bytes().put(uint32_t{1}).put(uint8_t{4})))
                           .bytes()),
            "record 2 (Snapshot) has trigger 4, expected 1-3");
  EXPECT_EQ(failure_of(finish(started().record(tf::RecordType::Snapshot, Bytes().put(uint32_t{1}))).bytes()),
            "record 2 (Snapshot) has 4 bytes, expected 5");
  EXPECT_EQ(failure_of(finish(started().snapshot_record(valid).snapshot_record(valid)).bytes()),
            "record 3 (Snapshot) appears a second time");
  EXPECT_EQ(failure_of(finish(TraceBuilder().snapshot_record(valid).process(sample_trace().process)).bytes()),
            "record 1 (Snapshot) comes before the Process record");
  EXPECT_EQ(failure_of(finish(started()).snapshot_record(valid).bytes()),
            "record 4 (Snapshot) comes after the End record");
}

TEST(trace_reader, RejectsBlocksWithUnknownStacks) {
  const std::vector<LiveBlock> blocks = {{0x10000, 1, 9, 1, AllocKind::Malloc}};
  EXPECT_EQ(failure_of(finish(started().live_blocks(blocks)).bytes()),
            "the live block at 0x10000 refers to stack 9, which the trace does not contain");
}

TEST(trace_reader, RejectsPathsThatAreNotTraceFiles) {
  const auto failure_reading = [](const std::string& path) {
    try {
      read_trace(path);
    } catch (const TraceError& error) {
      return std::string(error.what());
    }
    return std::string();
  };
  EXPECT_EQ(failure_reading("/nonexistent/nantrack.1.trace"),
            "cannot read trace '/nonexistent/nantrack.1.trace': no such file");
  EXPECT_EQ(failure_reading("/dev/null"), "cannot read trace '/dev/null': not a regular file");

  const TempPath directory("directory");
  std::filesystem::create_directory(directory.str());
  EXPECT_EQ(failure_reading(directory.str()), "cannot read trace '" + directory.str() + "': is a directory");

  const TempPath empty("empty.trace");
  TraceBuilder builder;
  builder.bytes().clear();
  builder.write(empty.str());
  EXPECT_EQ(failure_reading(empty.str()), "cannot read trace '" + empty.str() + "': empty file");

  // Root reads anything, so the check runs in a child that has dropped to
  // nobody; it reports through its exit status.
  const TempPath unreadable("unreadable.trace");
  TraceBuilder().snapshot(sample_trace()).write(unreadable.str());
  ::chmod(unreadable.str().c_str(), 0);
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    if (::geteuid() == 0 && (::setgid(65534) != 0 || ::setuid(65534) != 0)) ::_exit(2);
    bool right = failure_reading(unreadable.str()) ==
                 "cannot read trace '" + unreadable.str() + "': permission denied";
    ::_exit(right ? 0 : 1);
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status;
}

// ---- Robustness -------------------------------------------------------------------

// On success, what the reader promises about every trace it returns.
void expect_consistent(const Trace& trace) {
  for (const LiveBlock& block : trace.live_blocks) {
    EXPECT_TRUE(block.stack == tf::kNoStack || trace.stacks.contains(block.stack));
  }
  for (const ErrorEvent& error : trace.errors) {
    for (const StackId id : {error.stack, error.alloc_stack, error.free_stack}) {
      EXPECT_TRUE(id == tf::kNoStack || trace.stacks.contains(id));
    }
  }
}

// Random damage of the kinds real files suffer and of the kinds that reach the
// length and count checks: flipped bits, overwritten words (sizes, counts),
// cuts, lost and repeated ranges.
void mutate(std::vector<uint8_t>& bytes, std::mt19937_64& random) {
  const auto position = [&] { return bytes.empty() ? size_t{0} : random() % bytes.size(); };
  switch (random() % 5) {
    case 0:
      if (!bytes.empty()) bytes[position()] ^= uint8_t(1u << (random() % 8));
      break;
    case 1: {
      static constexpr uint32_t kInteresting[] = {
          0, 1, 0xff, 4096, 4097, 0x7fffffff, 0xffffffff, tf::kMaxRecordSize, tf::kMaxRecordSize + 1};
      const uint32_t value =
          random() % 2 ? kInteresting[random() % std::size(kInteresting)] : uint32_t(random());
      const size_t at = position();
      for (size_t i = 0; i < 4 && at + i < bytes.size(); ++i) bytes[at + i] = uint8_t(value >> (8 * i));
      break;
    }
    case 2: bytes.resize(position()); break;
    case 3: {
      const size_t from = position();
      bytes.erase(bytes.begin() + from, bytes.begin() + std::min(bytes.size(), from + random() % 64));
      break;
    }
    case 4: {
      const size_t from = position();
      const std::vector<uint8_t> copy(bytes.begin() + from,
                                      bytes.begin() + std::min(bytes.size(), from + random() % 64));
      bytes.insert(bytes.begin() + position(), copy.begin(), copy.end());
      break;
    }
  }
}

TEST(trace_reader, NeverCrashesOnDamagedTraces) {
  Trace base = sample_trace();
  base.process.snapshot = SnapshotInfo{.sequence = 2, .trigger = SnapshotTrigger::LeakCheck};
  TraceBuilder builder;
  builder.snapshot(base)
      .stack(7, {1, 2})
      .late_allocation({0x90000, 5, 7, 1, AllocKind::New})
      .late_free(0x20000);
  const std::vector<uint8_t> valid = builder.bytes();
  std::mt19937_64 random(20240501);
  size_t rejected = 0;
  constexpr int kIterations = 20000;
  for (int i = 0; i < kIterations; ++i) {
    std::vector<uint8_t> bytes = valid;
    const int mutations = 1 + int(random() % 3);
    for (int m = 0; m < mutations; ++m) mutate(bytes, random);
    try {
      expect_consistent(parse(bytes));
    } catch (const TraceError&) {
      ++rejected;
    }
    if (::testing::Test::HasFailure()) FAIL() << "iteration " << i;
  }
  // Most damage must be caught, not read as some other valid trace.
  EXPECT_GT(rejected, kIterations / 2);
}

TEST(trace_reader, LoadsAMillionBlocksQuickly) {
  Trace big = sample_trace();
  big.live_blocks.clear();
  for (uint64_t i = 0; i < 1'000'000; ++i) {
    big.live_blocks.push_back({0x100000000 + 32 * i, 16 + i % 100, StackId(1 + i % 4), 1, AllocKind::Malloc});
  }
  const TempPath path("big.trace");
  TraceBuilder().snapshot(big).write(path.str());

  const auto start = std::chrono::steady_clock::now();
  const Trace trace = read_trace(path.str());
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(trace.live_blocks.size(), 1'000'000u);
  EXPECT_LT(elapsed, std::chrono::seconds(1));
}

TEST(trace_reader, ReadsDamageFoundWithoutADeallocationCall) {
  Trace trace = sample_trace();
  trace.errors = {{.kind = ErrorKind::HeapOverflow,
                   .alloc_kind = AllocKind::Malloc,
                   .dealloc_kind = DeallocKind::None,
                   .address = 0x50000,
                   .block_address = 0x50000,
                   .block_size = 24,
                   .stack = 0,
                   .alloc_stack = 1,
                   .overflow_side = OverflowSide::Before,
                   .bytes_changed = 3,
                   .first_changed_offset = 1}};
  const Trace read = parse(TraceBuilder().snapshot(trace).bytes());
  ASSERT_EQ(read.errors.size(), 1u);
  EXPECT_EQ(read.errors[0].dealloc_kind, DeallocKind::None);
  EXPECT_EQ(read.errors[0].overflow_side, OverflowSide::Before);
  EXPECT_EQ(read.errors[0].bytes_changed, 3u);
  EXPECT_EQ(read.errors[0].first_changed_offset, 1u);
}

}  // namespace
}  // namespace nantrack
