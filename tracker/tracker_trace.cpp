// The snapshot: writing nantrack.<pid>.trace (layout: trace_format.h) with
// every shard locked, and the late records appended after it. Split from
// tracker.cpp, which keeps the allocation paths.
#include <sys/single_threaded.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "tracker/clock.h"
#include "tracker/glibc_heap_extents.h"
#include "tracker/internal_memory.h"
#include "tracker/sandbox.h"
#include "tracker/stderr_output.h"
#include "tracker/text_buffer.h"
#include "tracker/tracker.h"

namespace nantrack {

bool Tracker::open_trace(TraceOutput& out, uint32_t snapshot, char* path_out) {
  InlineText<PATH_MAX + 64> path;
  path << trace_dir_ << "/nantrack." << pid_;
  if (snapshot) path << ".snapshot-" << snapshot;
  path << ".trace";
  if (path.truncated()) return false;
  if (!out.writer->open(path.c_str())) {
    InlineText<PATH_MAX + 160> message;
    message << "nantrack: cannot write trace '" << path.view() << "': " << strerrordesc_np(errno) << '\n';
    print_to_stderr(message.view());
    return false;
  }
  std::memcpy(path_out, path.c_str(), path.size() + 1);
  // One bit per stack id the depot can hand out, so that late records may
  // name stacks interned after this point.
  size_t bitmap_bytes = (depot_.id_limit() + 63) / 64 * sizeof(uint64_t);
  out.written_stacks = static_cast<uint64_t*>(map_memory(bitmap_bytes, true));
  return true;
}

void Tracker::close_trace(TraceOutput& out) {
  out.writer->close();
  unmap_memory(out.written_stacks, (depot_.id_limit() + 63) / 64 * sizeof(uint64_t));
  out.written_stacks = nullptr;
}

void Tracker::write_process(TraceOutput& out, const ExitInfo& exit) {
  TraceWriter& writer = *out.writer;
  uint32_t flags = exit.flags;
  if (forked_child_) flags |= trace_format::kForkedChild;
  if (own_allocator_) flags |= trace_format::kOwnAllocator;
  writer.begin(trace_format::RecordType::Process);
  writer.put_u32(pid_);
  writer.put_u32(ppid_);
  writer.put_i64(start_ns_);
  writer.put_i64(now_ns());
  writer.put_i32(exit.exit_status);
  writer.put_i32(exit.signal);
  writer.put_u32(flags);
  writer.put_string(exe_path_);
  writer.put_u32(argc_);
  for (size_t offset = 0; offset < argv_bytes_;) {
    size_t length = std::strlen(argv_ + offset);
    writer.put_string({argv_ + offset, length});
    offset += length + 1;
  }
  writer.end();
}

void Tracker::write_stack_once(TraceOutput& out, StackId id) {
  if (id == kNoStack || id >= depot_.id_limit()) return;
  if (out.written_stacks) {
    uint64_t& word = out.written_stacks[id / 64];
    uint64_t bit = uint64_t{1} << (id % 64);
    if (word & bit) return;
    word |= bit;
  }
  StackView stack = depot_.get(id);
  TraceWriter& writer = *out.writer;
  writer.begin(trace_format::RecordType::Stack);
  writer.put_u32(id);
  writer.put_u32(stack.depth);
  writer.put_bytes(stack.pcs, stack.depth * sizeof(uintptr_t));
  writer.end();
}

namespace {
void put_block_entry(TraceWriter& writer, const BlockRecord& record, LeakClass leak_class) {
  writer.put_u64(record.address);
  writer.put_u64(record.size);
  writer.put_u32(record.alloc_stack);
  writer.put_u32(record.thread());
  writer.put_u8(static_cast<uint8_t>(record.kind));
  writer.put_u8(static_cast<uint8_t>(leak_class));
}
}  // namespace

void Tracker::note_program_stack(uintptr_t stack_pointer) {
  // The first call wins: exit() called from main comes before main_wrapper.
  if (program_stack_) return;
  program_stack_thread_ = thread_id();
  program_stack_ = stack_pointer;
}

// With every shard locked: which live blocks the program can still reach.
void Tracker::classify_live_blocks(ReachabilityScan& scan, LeakRoots::ProgramState program) {
  size_t capacity = 0;
  for (const Shard& shard : shards_) capacity += shard.blocks.size();
  if (!scan.reserve(capacity)) return;
  // Where glibc keeps the blocks, live or in quarantine: left out of the
  // program's own mappings when those are scanned.
  GlibcHeapExtents heap;
  const bool find_heap = leak_roots_.scans_mappings();
  for (const Shard& shard : shards_) {
    shard.blocks.for_each([&](const BlockRecord& record) {
      const StackView stack = depot_.get(record.alloc_stack);
      const bool by_loader = stack.depth && leak_roots_.is_loader_code(stack.pcs[0]);
      scan.add_block(record.address, record.size, record.ignored || by_loader);
      if (find_heap) heap.add_chunk_of(reinterpret_cast<uintptr_t>(raw_block(record)));
    });
    if (find_heap)
      shard.quarantine.for_each([&](const BlockRecord& record) { heap.add_chunk_of(reinterpret_cast<uintptr_t>(raw_block(record))); });
  }
  heap.finish();
  scan.seal();
  // Without every extent, a free chunk's stale words could be read as roots.
  const bool heap_known = find_heap && heap.complete();
  leak_roots_.scan(scan, program, {heap_known, heap.ranges(), heap.count()});
  scan.classify_leaks();
}

void Tracker::write_heap(TraceOutput& out, bool scan_leaks, LeakRoots::ProgramState program, LeakTally& tally) {
  ReachabilityScan scan;
  if (scan_leaks) classify_live_blocks(scan, program);
  for (Shard& shard : shards_) write_live_blocks(out, shard, scan, tally);
}

void Tracker::write_live_blocks(TraceOutput& out, Shard& shard, const ReachabilityScan& scan, LeakTally& tally) {
  // Stacks go first, then the blocks in chunks that fit one record.
  shard.blocks.for_each([&](const BlockRecord& record) {
    write_stack_once(out, record.alloc_stack);
  });
  TraceWriter& writer = *out.writer;
  uint32_t in_chunk = 0;
  auto close_chunk = [&] {
    if (!in_chunk) return;
    writer.set_leading_u32(in_chunk);
    writer.end();
    in_chunk = 0;
  };
  shard.blocks.for_each([&](const BlockRecord& record) {
    const LeakClass leak_class = scan.class_of(record.address);
    tally.add(leak_class, record.size);
    if (in_chunk == trace_format::kMaxBlocksPerRecord) close_chunk();
    if (in_chunk == 0) {
      writer.begin(trace_format::RecordType::LiveBlocks);
      writer.put_u32(0);  // the count, set when the chunk closes
    }
    put_block_entry(writer, record, leak_class);
    ++in_chunk;
  });
  close_chunk();
}

void Tracker::check_live_and_quarantined(Shard& shard) {
  auto check = [&](const BlockRecord& record) {
    ErrorRecord errors[kMaxDamageErrors];
    size_t found = inspect(record, errors);
    for (size_t i = 0; i < found; ++i) report(errors[i], false);
  };
  shard.blocks.for_each(check);
  shard.quarantine.for_each(check);
}

void Tracker::write_error(TraceOutput& out, const ErrorRecord& error) {
  write_stack_once(out, error.stack);
  write_stack_once(out, error.alloc_stack);
  write_stack_once(out, error.free_stack);
  TraceWriter& writer = *out.writer;
  writer.begin(trace_format::RecordType::Error);
  writer.put_u8(static_cast<uint8_t>(error.kind));
  writer.put_u8(error.alloc_kind);
  writer.put_u8(static_cast<uint8_t>(error.dealloc_kind));
  writer.put_u8(static_cast<uint8_t>(error.invalid_pointer));
  writer.put_u32(error.thread);
  writer.put_u64(error.address);
  writer.put_u64(error.block_address);
  writer.put_u64(error.block_size);
  writer.put_u32(error.stack);
  writer.put_u32(error.alloc_stack);
  writer.put_u32(error.free_stack);
  writer.put_u8(static_cast<uint8_t>(error.overflow_side));
  writer.put_u32(error.bytes_changed);
  writer.put_u64(error.first_changed_offset);
  writer.end();
}

void Tracker::write_error_repeats(TraceOutput& out, size_t index, uint64_t more) {
  TraceWriter& writer = *out.writer;
  writer.begin(trace_format::RecordType::ErrorRepeats);
  writer.put_u32(static_cast<uint32_t>(index));
  writer.put_u64(more);
  writer.end();
}

void Tracker::write_counters(TraceOutput& out) {
  uint64_t allocations = 0, frees = 0, bytes = 0;
  for (const Shard& shard : shards_) {
    allocations += shard.allocations;
    frees += shard.frees;
    bytes += shard.bytes_allocated;
  }
  TraceWriter& writer = *out.writer;
  writer.begin(trace_format::RecordType::Counters);
  writer.put_u64(allocations);
  writer.put_u64(frees);
  writer.put_u64(bytes);
  writer.put_u64(static_cast<uint64_t>(live_bytes_.publish_and_peak()));
  writer.end();
}

bool Tracker::lock_all_shards(bool from_signal, bool (&locked)[kShardCount]) {
  for (size_t i = 0; i < kShardCount; ++i) {
    locked[i] = from_signal ? shards_[i].mutex.lock_patiently() : shards_[i].mutex.lock_unless_held_here();
    if (!locked[i] && from_signal) return false;
  }
  return true;
}

void Tracker::unlock_shards(const bool (&locked)[kShardCount]) {
  for (size_t i = 0; i < kShardCount; ++i)
    if (locked[i]) shards_[i].mutex.unlock();
}

void Tracker::write_end(TraceOutput& out) {
  write_counters(out);
  out.writer->begin(trace_format::RecordType::End);
  out.writer->end();
  out.writer->flush();
}

void Tracker::open_trace_early() {
  if (!initialized() || !owns_process() || !write_traces_ || trace_opened_early_ || late_.load()) return;
  // Not under scan_mutex_: the program is changing its rights, not in the
  // middle of a check.
  trace_opened_early_ = open_trace(output_, 0, trace_path_);
  if (trace_opened_early_) writer_.move_descriptor_up();
}

// An early trace whose descriptor the program closed (daemons close every
// descriptor) or reused is given up: the trace is opened again if it can
// be, and never written into the program's file.
bool Tracker::keep_early_trace_if_intact() {
  if (!trace_opened_early_ || writer_.holds_its_file()) return trace_opened_early_;
  writer_.abandon();
  close_trace(output_);
  trace_opened_early_ = false;
  return false;
}

bool Tracker::write_trace(const ExitInfo& exit, bool from_signal, LeakRoots::ProgramState program) {
  if (!initialized() || !owns_process() || !write_traces_) return false;
  if (trace_claimed_.exchange(true)) return false;
  int saved_errno = errno;
  const bool had_early_trace = trace_opened_early_;
  const bool opened_early = keep_early_trace_if_intact();
  if (in_sandbox() && !opened_early) {
    // A child forked inside the sandbox, or a process that closed the trace
    // opened before it: openat may kill it.
    InlineText<200> message;
    message << "nantrack: process " << pid_
            << (had_early_trace ? " closed the trace opened before its seccomp sandbox"
                                : " started inside a seccomp sandbox")
            << ": it has no trace\n";
    print_to_stderr(message.view());
    errno = saved_errno;
    return false;
  }
  if (!opened_early && !open_trace(output_, 0, trace_path_)) {
    errno = saved_errno;
    return false;
  }
  // The scan is skipped in a fatal signal handler: stopping threads and
  // reading /proc there is more than a crashing process can be trusted
  // with. Its blocks then go out as NotScanned. Nor is the scan lock taken
  // there: the crash may have happened in a scan.
  // Nor in a seccomp sandbox (sandbox.h) if the process ever had a second
  // thread: stopping threads takes calls its filter forbids.
  bool scan_leaks = !from_signal && options_.leak_scan && (!in_sandbox() || __libc_single_threaded);
  // Nor when an interrupted call of this thread's was a scan (taken once
  // the trace is open: every way out before this one leaves it free).
  if (scan_leaks) scan_leaks = scan_mutex_.lock_unless_held_here();
  ExitInfo process = exit;
  if (leak_check_done_.load(std::memory_order_relaxed)) process.flags |= trace_format::kLeakCheckDone;
  write_process(output_, process);
  modules_.write(writer_);  // before the shard locks: it takes the loader's lock
  if (scan_leaks) leak_roots_.collect_globals(reinterpret_cast<uintptr_t>(&tracker));
  // Holding every shard lock freezes the heap picture: threads still
  // running block in malloc until the snapshot is done, then go on as late.
  bool locked[kShardCount] = {};
  const bool heap_readable = lock_all_shards(from_signal, locked);
  LeakTally tally;
  if (heap_readable) {
    // Damage is reported (and recorded) before the errors are written. Not
    // from a signal handler: report() takes locks the crash may hold; nor
    // when an interrupted call of this thread's holds the errors' lock.
    if (!from_signal && !errors_.mutex().held_here())
      for (Shard& shard : shards_) check_live_and_quarantined(shard);
    const bool noted = program_stack_ && program_stack_thread_ == thread_id();
    write_heap(output_, scan_leaks, noted ? LeakRoots::ProgramState{program_stack_} : program, tally);
  } else {
    output_.writer->begin(trace_format::RecordType::LiveBlocksUnknown);
    output_.writer->end();
  }
  unfreed_bytes_ = tally.total_bytes();
  unfreed_blocks_ = tally.total_blocks();
  const bool errors_locked = !from_signal && errors_.mutex().lock_unless_held_here();
  for (size_t i = 0; i < errors_.count(); ++i) write_error(output_, errors_[i]);
  for (size_t i = 0; i < errors_.count(); ++i)
    if (errors_.occurrences(i) > 1) write_error_repeats(output_, i, errors_.occurrences(i) - 1);
  if (errors_locked) errors_.mutex().unlock();
  write_end(output_);
  if (output_.writer->failed()) {
    InlineText<PATH_MAX + 160> message;
    message << "nantrack: the trace '" << trace_path_ << "' is cut short: " << strerrordesc_np(output_.writer->error())
            << '\n';
    print_to_stderr(message.view());
  }
  late_class_ = scan_leaks && heap_readable ? LeakClass::Reachable : LeakClass::NotScanned;
  late_.store(true, std::memory_order_release);
  unlock_shards(locked);
  if (scan_leaks) scan_mutex_.unlock();
  errno = saved_errno;
  return true;
}

void Tracker::write_late_allocation(const BlockRecord& record) {
  LockGuard guard(late_mutex_);
  if (!writer_.is_open()) return;
  write_stack_once(output_, record.alloc_stack);
  writer_.begin(trace_format::RecordType::LateAllocation);
  // The caller saw late_ set (relaxed): late_class_, written before it, is
  // read after this fence.
  std::atomic_thread_fence(std::memory_order_acquire);
  put_block_entry(writer_, record, late_class_);
  writer_.end();
  writer_.flush();
}

void Tracker::write_late_free(uintptr_t address) {
  LockGuard guard(late_mutex_);
  if (!writer_.is_open()) return;
  writer_.begin(trace_format::RecordType::LateFree);
  writer_.put_u64(address);
  writer_.end();
  writer_.flush();
}

}  // namespace nantrack
