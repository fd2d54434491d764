// Leak checks the program asks for while it runs (LeakSanitizer's
// interface, the snapshot signal): ignored blocks, root regions, and
// snapshot traces. Split from tracker_trace.cpp, which writes the
// process's own trace at its end.
#include <cerrno>

#include "tracker/sandbox.h"
#include "tracker/tracker.h"

namespace nantrack {

NANTRACK_TLS uint32_t t_leak_checks_disabled = 0;

bool Tracker::ignore_block(const void* block) {
  const auto address = reinterpret_cast<uintptr_t>(block);
  Shard& shard = shard_for(address);
  LockGuard guard(shard.mutex);
  LiveBlocks::Found live;
  if (!shard.blocks.find(address, live)) return false;
  live.record.ignored = 1;
  shard.blocks.update(live, live.record);
  return true;
}

bool Tracker::add_root_region(uintptr_t begin, size_t size) {
  LockGuard guard(scan_mutex_);
  return leak_roots_.add_region(begin, size);
}

bool Tracker::remove_root_region(uintptr_t begin, size_t size) {
  LockGuard guard(scan_mutex_);
  return leak_roots_.remove_region(begin, size);
}

// The exit trace's steps without what only the end of a process has:
// errors (they belong to the process's trace), heap damage checks, late
// records. The heap is frozen under every shard lock, as there.
SnapshotResult Tracker::write_snapshot(SnapshotTrigger trigger, LeakRoots::ProgramState program) {
  SnapshotResult result;
  // In a seccomp sandbox a check cannot open its trace nor stop threads.
  if (!started_.load(std::memory_order_acquire) || !owns_process() || !write_traces_ || in_sandbox()) return result;
  // LeakSanitizer makes its final check once; so do we.
  if (trigger == SnapshotTrigger::LeakCheck && leak_check_done_.exchange(true)) return result;
  const int saved_errno = errno;
  LockGuard scanning(scan_mutex_);
  result.made = true;
  result.sequence = ++snapshot_count_;
  TraceOutput out{&snapshot_writer_};
  result.written = open_trace(out, result.sequence, result.path);
  TraceWriter& writer = snapshot_writer_;
  write_process(out, ExitInfo{});
  writer.begin(trace_format::RecordType::Snapshot);
  writer.put_u32(result.sequence);
  writer.put_u8(static_cast<uint8_t>(trigger));
  writer.end();
  modules_.write(writer);  // before the shard locks: it takes the loader's lock
  leak_roots_.collect_globals(reinterpret_cast<uintptr_t>(&tracker));
  bool locked[kShardCount] = {};
  lock_all_shards(false, locked);
  write_heap(out, true, program, result.leaks);
  write_end(out);
  unlock_shards(locked);
  if (result.written) {
    result.written = !writer.failed();
    close_trace(out);
  }
  errno = saved_errno;
  return result;
}

}  // namespace nantrack
