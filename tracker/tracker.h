// The tracking engine: remembers every live heap block with the stack that
// allocated it, holds freed blocks in quarantine, catches double, invalid
// and mismatched frees at the bad call, and writes the trace.
//
// It is driven by the preload shim (preload/), which routes each intercepted
// call here after ruling out re-entry; everything here may assume it is not
// re-entered on the same thread. Nothing here allocates with malloc, and no
// lock is held while a stack is being unwound.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "tracker/block_table.h"
#include "tracker/live_blocks.h"
#include "tracker/error_log.h"
#include "tracker/guard_bytes.h"
#include "tracker/kinds.h"
#include "tracker/leak_roots.h"
#include "tracker/live_bytes.h"
#include "tracker/module_map.h"
#include "tracker/options.h"
#include "tracker/platform.h"
#include "tracker/quarantine.h"
#include "tracker/reachability.h"
#include "tracker/stack_capture.h"
#include "tracker/stack_depot.h"
#include "tracker/sync.h"
#include "tracker/thread_unwind_state.h"
#include "tracker/trace_format.h"
#include "tracker/trace_writer.h"
#include "tracker/untracked_set.h"

namespace nantrack {

// The real allocator functions the tracker itself calls.
struct RealFunctions {
  void* (*malloc)(size_t) = nullptr;
  void (*free)(void*) = nullptr;
  size_t (*malloc_usable_size)(void*) = nullptr;
  void* (*realloc)(void*, size_t) = nullptr;
  // malloc is glibc's own, so a block's chunk header (the 16 bytes before
  // it) is there to read; another allocator may have nothing mapped there.
  bool glibc_heap = false;
};

// __lsan_disable() nesting depth on this thread: blocks it allocates while
// above zero are ignored by the leak scan (BlockRecord::ignored).
extern NANTRACK_TLS uint32_t t_leak_checks_disabled;

// What a leak check made while the program runs (write_snapshot) found.
struct SnapshotResult {
  bool made = false;     // false: no scan (before start-up, a vfork or untraced child, a repeated final check)
  bool written = false;  // the snapshot trace was written to path
  uint32_t sequence = 0;
  char path[PATH_MAX + 64] = {};  // a copy: the next snapshot may start at once
  LeakTally leaks;
};

// How the process ended, for the trace's Process record.
struct ExitInfo {
  int32_t exit_status = trace_format::kUnknownExitStatus;
  int32_t signal = 0;
  uint32_t flags = 0;  // trace_format::ProcessFlags
};

class Tracker {
 public:
  constexpr Tracker() = default;
  Tracker(const Tracker&) = delete;
  Tracker& operator=(const Tracker&) = delete;

  // Phase 1, on the first intercepted call (possibly inside the dynamic
  // loader, before any constructor): options and tables. No allocation.
  void init(const RealFunctions& real);
  bool initialized() const { return initialized_.load(std::memory_order_acquire); }
  // Phase 2, from the library's constructor: stack capture, module map, argv.
  // Blocks allocated before this have no stack.
  void start(int argc, char** argv, uintptr_t own_code_begin, uintptr_t own_code_end);

  // A new thread, before the program's code runs in it: it takes its
  // unwind state, and with it an alternate signal stack, now rather than at
  // its first call (thread_unwind_state.h). Runs inside nantrack.
  void prepare_thread() {
    if (started_.load(std::memory_order_acquire)) take_this_thread_unwind_state();
  }
  // The bytes to ask libc for so that a block of `size` bytes with this
  // alignment has its redzones; false when that overflows.
  bool raw_size(size_t size, size_t alignment, size_t& raw_bytes) const;
  // Takes the raw block libc returned for raw_size(size, alignment), writes
  // its redzones and returns the pointer the program gets. `caller`: the
  // program's frame at its call into the allocator, where the stack is
  // unwound from (before start(), its pc alone is the stack).
  void* on_allocation(void* raw, size_t size, AllocKind kind, size_t alignment, const CallerFrame& caller);
  // Takes the block from the program: quarantines it or gives it to libc;
  // a pointer that is not a live block is reported and never reaches libc.
  // Without `caller` the stack is unwound from here.
  void on_deallocation(void* block, DeallocKind kind, const CallerFrame* caller = nullptr);
  // realloc(block, size) for a non-null block and a non-zero size, with
  // glibc's semantics; a bad block is reported and nullptr returned (ENOMEM).
  void* on_reallocation(void* block, size_t size, const CallerFrame& caller);
  // Corrects the kind of a block that reached us through another function
  // (operator new falling back to libstdc++'s, which calls malloc).
  void retag(void* block, AllocKind kind);
  // The size the program asked for if the block is live (not freed, not
  // foreign): malloc_usable_size. `wait`: false when this thread may hold
  // the lock already (re-entered from a signal handler); nullopt then if busy.
  std::optional<size_t> live_size(void* block, bool wait = true);
  // Records the modules loaded now (before a dlclose).
  void refresh_modules() {
    modules_.refresh();
    stacks_.forget_cached_stacks();
  }

  // A free that arrived while this thread was inside the tracker (a signal
  // handler interrupting us): it is applied on the next tracked call.
  void defer_deallocation(void* block, DeallocKind kind);
  UntrackedSet& untracked() { return untracked_; }
  // Puts a block handed out untracked into the untracked set, so that its
  // free reaches libc; when the set cannot hold it, every unknown address
  // is taken for such a block from then on (may_be_untracked()).
  void remember_untracked(uintptr_t address) {
    if (!untracked_.insert(address)) [[unlikely]]
      lose_track();
  }
  // Whether an address the tracker does not know may be a block of the
  // program's that went untracked: one in the untracked set, or any at all
  // once the tracker lost track.
  bool may_be_untracked(uintptr_t address) const {
    return lost_track_.load(std::memory_order_relaxed) || untracked_.contains(address);
  }

  // Where the program's live frames end on this thread, from exit, _exit or
  // main's return: the leak scan reads this thread's stack from there up.
  // The frames below (destructors, the loader's fini, ours) are not the
  // program's and hold stale pointers that would hide leaks.
  void note_program_stack(uintptr_t stack_pointer);

  // Writes nantrack.<pid>.trace once; returns true for the call that wrote
  // it. Afterwards the tracker keeps working and appends late records (frees
  // made by destructors that run after the snapshot). `from_signal`: from a
  // fatal signal's handler: only async-signal-safe work, no scan, and locks
  // are tried, not waited for (the crash may hold one).
  //
  // A signal handler that ends the process (exit, _exit) may have
  // interrupted this thread inside one of our calls, suspended for good
  // with what it holds: a lock this thread holds is not waited for, and
  // what it guards is read without it (nobody else can change it).
  // `program`: where this thread left the program, when this runs on a
  // stack of nantrack's own (stack_switch.h); a stack noted with
  // note_program_stack() comes first.
  bool write_trace(const ExitInfo& exit, bool from_signal = false, LeakRoots::ProgramState program = {});
  // After write_trace: where the trace went, and what was live in it.
  const char* trace_path() const { return trace_path_; }
  uint64_t unfreed_bytes() const { return unfreed_bytes_; }
  uint64_t unfreed_blocks() const { return unfreed_blocks_; }

  // LeakSanitizer's interface (preload/lsan_interface.cpp).
  // Makes the live block that starts at `block` a root that is never
  // reported; false when no live block starts there.
  bool ignore_block(const void* block);
  // Root regions (LeakRoots::add_region, remove_region), kept out of a scan
  // under way.
  bool add_root_region(uintptr_t begin, size_t size);
  bool remove_root_region(uintptr_t begin, size_t size);
  // Scans now and writes nantrack.<pid>.snapshot-<n>.trace while the program
  // goes on; other threads are stopped meanwhile. This thread's stack is
  // scanned from `program.stack` up, its registers are `program.registers`
  // (LeakRoots::ProgramState). Must not be called while this thread is
  // inside nantrack. A second LeakCheck is not made.
  SnapshotResult write_snapshot(SnapshotTrigger trigger, LeakRoots::ProgramState program);

  // pthread_atfork: every lock is held across fork(), so the child's copy of
  // every table is consistent.
  // A fork() from a signal handler that interrupted this thread inside one
  // of our calls: a lock that call holds is left to it (it resumes, in
  // parent and child, when the handler returns).
  void before_fork();
  void after_fork_in_parent();
  void after_fork_in_child();
  // Whether this process is the one the tracker belongs to (false in a
  // vfork child, which shares our memory and must not touch it).
  bool owns_process() const;
  // The program is about to lose the right to open its trace at the end: a
  // seccomp filter (sandbox.h), another user id, a chroot. Opens it now
  // (once); the end writes into it, if the program has not closed it by
  // then.
  void open_trace_early();
  // The program defines malloc itself (preload/lifecycle.cpp found out at
  // start): its trace says that its allocations were not seen.
  void note_own_allocator() { own_allocator_ = true; }

  const Options& options() const { return options_; }
  void print_unwind_check() const { stacks_.print_check_summary(); }
  // Whether `pc` is in libunwind's code (preload/signal_mask_hook.cpp).
  bool is_unwinder_code(uintptr_t pc) const { return stacks_.is_unwinder_code(pc); }
  uint32_t pid() const { return pid_; }

 private:
  struct alignas(64) Shard {
    Mutex mutex;
    LiveBlocks blocks;
    Quarantine quarantine;
    uint64_t allocations = 0;
    uint64_t frees = 0;
    uint64_t bytes_allocated = 0;
    // The shard last found holding the oldest quarantined block besides
    // this one (find_oldest_elsewhere()).
    uint32_t oldest_elsewhere = 0;
    // The thread that last freed a block into its quarantine under the
    // pressure of the shared limits (age_compared()); 0: none.
    std::atomic<uint32_t> last_freer{0};
    // Blocks another thread asked this shard to give up on its next free,
    // not given yet (evict_elsewhere()).
    std::atomic<uint32_t> evictions_asked{0};
  };
  static constexpr size_t kShardCount = size_t{1} << BlockTable::kShardBits;
  // A thread's blocks go to one group of shards: its arena's (BlockPlace).
  static constexpr size_t kShardsPerGroup = kShardCount >> BlockPlace::kGroupBits;
  // Blocks evicted from quarantine in one call at most; the rest wait for
  // the next free, so one call's work stays bounded.
  static constexpr size_t kMaxEvictedPerCall = 32;
  // A quarantine over its limits gives up this many blocks at once when it
  // holds kBatchedFrom or more (see evict()); a smaller one, one at a time.
  static constexpr size_t kEvictionBatch = 8;
  static constexpr size_t kBatchedFrom = 256;
  // Under the shared limits' pressure, a shard looks for the one holding
  // the oldest blocks on every kOldestRefresh-th free (evict_by_age()).
  static constexpr uint64_t kOldestRefresh = 64;
  // A shard another thread frees into is asked for its oldest blocks
  // until this many are asked and not given: its thread has stopped
  // freeing, and they are taken.
  static constexpr uint32_t kUnpaidEvictions = 32 * kEvictionBatch;
  // The records of the blocks one call took out of quarantine, released
  // after the shard lock. Left uninitialised: a free evicts about one, and
  // zeroing 32 records cost more than the rest of the free.
  struct EvictedBlocks {
    EvictedBlocks() {}
    union {
      BlockRecord records[kMaxEvictedPerCall];
    };
    size_t count = 0;
  };
  static constexpr size_t kDeferredCapacity = 256;

  Shard& shard_for(uintptr_t address) { return shards_[BlockPlace::shard(address, main_heap_, kShardCount)]; }
  StackId capture_stack(const CallerFrame* caller);
  uint32_t thread_id();
  static BlockRecord live_record(void* block, size_t size, AllocKind kind, bool ignored, uint8_t alignment_log2,
                                 StackId stack, uint32_t thread);
  // Guards and records a block libc gave; its first `kept` bytes hold data
  // already (realloc), the rest get the malloc fill.
  void* track(void* raw, size_t size, AllocKind kind, uint8_t alignment_log2, StackId stack, size_t kept = 0);
  // Out of memory for our tables: from now on, frees of unknown addresses
  // go to libc unreported (may_be_untracked()). Says so once on stderr.
  NANTRACK_NOINLINE void lose_track();
  // When the block table cannot grow (its mmap failed: an address-space
  // limit): loses track and hands `raw` to the program as a plain
  // untracked block, the contents moved to its start; or frees it and
  // fails with ENOMEM where a plain block would break the alignment asked
  // for.
  NANTRACK_NOINLINE void* give_up_tracking(void* raw, size_t size, AllocKind kind, uint8_t alignment_log2,
                                           size_t kept);
  // A free's stack: captured, or (`pending`) to be captured from `caller`
  // only if the free needs it.
  struct FreeStack {
    StackId id = kNoStack;
    bool pending = false;
    const CallerFrame* caller = nullptr;
  };
  void deallocate(void* block, DeallocKind kind, FreeStack free_stack);
  NANTRACK_NOINLINE void deallocate_checked(void* block, DeallocKind kind, StackId free_stack);
  void* retire(Shard& shard, const LiveBlocks::Found& live, StackId free_stack, EvictedBlocks& evicted);
  // Before the free fill of a block of a page or more: see tracker.cpp.
  NANTRACK_NOINLINE void open_up_if_mmapped(const BlockRecord& freed) const;
  void finish_deallocation(uintptr_t address, uint64_t size, void* release_now, const EvictedBlocks& evicted);
  void* resize_in_place(void* block, size_t size, StackId stack);
  // Blocks this large are resized by libc's realloc (resize_by_libc).
  static constexpr uint64_t kLibcResizeBytes = 128 << 10;
  void* resize_by_libc(void* block, size_t size, StackId stack);
  // The errors inspect() found on a block realloc() is about to move.
  void report_realloc_damage(ErrorRecord* errors, size_t count, StackId stack);
  void* raw_block(const BlockRecord& record) const;
  // Checks a block's redzones (and, for a freed one, its free fill), puts
  // the patterns back so that the damage is reported once, and returns the
  // errors found (at most kMaxDamageErrors) in `errors`.
  static constexpr size_t kMaxDamageErrors = 3;
  size_t inspect(const BlockRecord& record, ErrorRecord* errors);
  // Whether inspect() would find nothing: the fast check of every free.
  bool intact(const BlockRecord& record) const;
  NANTRACK_NOINLINE size_t describe_damage(const BlockRecord& record, ErrorRecord* errors);
  // `may_abort`: false at exit, where abort_on_error would cut the trace short.
  void report(const ErrorRecord& error, bool may_abort = true);
  InvalidPointer classify_invalid_pointer(uintptr_t address, ErrorRecord& error);
  void drain_deferred();
  void evict(Shard& shard, EvictedBlocks& evicted);
  void evict_oldest(Shard& shard, EvictedBlocks& evicted);
  NANTRACK_NOINLINE void evict_by_age(Shard& self, EvictedBlocks& evicted);
  void evict_elsewhere(Shard& self, EvictedBlocks& evicted);
  bool asks_instead(const Shard& other);
  bool leaves_evictions_to_its_thread(const Shard& shard);
  NANTRACK_NOINLINE void give_asked_evictions(Shard& shard, EvictedBlocks& evicted);
  void find_oldest_elsewhere(Shard& self);
  uint64_t age_compared(const Shard& shard);
  void release_evicted(const EvictedBlocks& evicted);
  struct ByteRange {
    uintptr_t begin, end;
  };
  ByteRange bytes_read_on_release(const BlockRecord& record) const;
  void prefetch_block(const BlockRecord& record) const;
  void check_live_and_quarantined(Shard& shard);

  // Trace writing. A TraceOutput is one trace file being written: the
  // process's own (writer_, then its late records) or a snapshot.
  struct TraceOutput {
    TraceWriter* writer = nullptr;
    uint64_t* written_stacks = nullptr;  // bitmap over stack ids
  };
  // Opens nantrack.<pid>.trace, or nantrack.<pid>.snapshot-<n>.trace for
  // snapshot n > 0, and maps the output's stack bitmap; says why on stderr
  // when it cannot. `path` has room for PATH_MAX + 64 bytes.
  bool open_trace(TraceOutput& out, uint32_t snapshot, char* path);
  void close_trace(TraceOutput& out);
  // Whether the trace open_trace_early() opened is still there to write.
  bool keep_early_trace_if_intact();
  void write_process(TraceOutput& out, const ExitInfo& exit);
  void write_stack_once(TraceOutput& out, StackId id);
  // `program`: where this thread left the program (LeakRoots::ProgramState).
  void classify_live_blocks(ReachabilityScan& scan, LeakRoots::ProgramState program);
  // With every shard locked: the leak scan (unless `scan_leaks` is false),
  // then every live block with its class, counted in `tally`.
  void write_heap(TraceOutput& out, bool scan_leaks, LeakRoots::ProgramState program, LeakTally& tally);
  void write_live_blocks(TraceOutput& out, Shard& shard, const ReachabilityScan& scan, LeakTally& tally);
  void write_error(TraceOutput& out, const ErrorRecord& error);
  // `more` occurrences of the trace's error number `index`.
  void write_error_repeats(TraceOutput& out, size_t index, uint64_t more);
  void write_counters(TraceOutput& out);
  // Counters and End, then everything goes to the file.
  void write_end(TraceOutput& out);
  void write_late_allocation(const BlockRecord& record);
  void write_late_free(uintptr_t address);
  // Locks every shard but one this thread holds already, noting in `locked`
  // (all false on entry) which it took. From a fatal signal, each is tried
  // for 100 ms, and one that stays held ends it: false, and no heap is
  // written.
  bool lock_all_shards(bool from_signal, bool (&locked)[kShardCount]);
  void unlock_shards(const bool (&locked)[kShardCount]);

  std::atomic<bool> initialized_{false};
  std::atomic<bool> started_{false};
  // After the snapshot: allocations and frees are appended as late records.
  std::atomic<bool> late_{false};
  // What a late allocation is written as. After a scanned trace: reachable.
  // Threads still running while the process ends allocate them, and hold
  // them when exit_group stops those threads; counted as definite, every
  // busy thread's blocks in hand showed up as leaks (4 threads allocating
  // while main returns: 5 to 43 false leaks a run). After a trace without a
  // scan: not scanned, as its other blocks.
  LeakClass late_class_ = LeakClass::NotScanned;
  // The line saying that repeats of an error are counted, not printed, was.
  std::atomic<bool> repeats_noted_{false};
  // A block went untracked and not into the untracked set: frees of
  // unknown addresses then go to libc unreported (give_up_tracking()).
  std::atomic<bool> lost_track_{false};
  std::atomic<bool> trace_claimed_{false};
  std::atomic<bool> deferred_pending_{false};
  std::atomic<bool> leak_check_done_{false};  // __lsan_do_leak_check ran
  bool write_traces_ = true;
  // A clean free's stack is kept only with its block in quarantine.
  bool keeps_free_stacks_ = false;
  bool forked_child_ = false;
  bool trace_opened_early_ = false;  // by open_trace_early()
  bool own_allocator_ = false;
  // The locks before_fork() took, for the after_fork handlers to release.
  struct ForkLocks {
    bool scan, modules, late, errors;
    bool shards[kShardCount];
  };
  ForkLocks fork_locks_{};

  Options options_;
  RedzoneLayout redzones_;
  // Where the main arena's heap starts (BlockPlace): set before the first
  // block is tracked and never changed, since it places every block.
  uintptr_t main_heap_ = 0;
  RealFunctions real_;
  uint32_t pid_ = 0;
  // At start (or fork): the parent that started us, also when it is gone
  // by the end; and getppid is not a call a sandbox allows.
  uint32_t ppid_ = 0;
  int64_t start_ns_ = 0;
  char trace_dir_[PATH_MAX] = {};
  char exe_path_[PATH_MAX] = {};
  char trace_path_[PATH_MAX + 64] = {};
  uint32_t snapshot_count_ = 0;
  uint64_t unfreed_bytes_ = 0;
  uint64_t unfreed_blocks_ = 0;
  char* argv_ = nullptr;  // NUL-separated copy of argv, argv_bytes_ long
  uint32_t argc_ = 0;
  size_t argv_bytes_ = 0;

  Shard shards_[kShardCount];
  static_assert(kShardCount <= QuarantineBudget::kMaxQuarantines);
  QuarantineBudget quarantine_budget_;
  StackDepot depot_;
  StackCapture stacks_;
  UntrackedSet untracked_;
  ErrorLog errors_;
  ModuleMap modules_;
  LeakRoots leak_roots_;
  uintptr_t program_stack_ = 0;  // note_program_stack(), for program_stack_thread_
  uint32_t program_stack_thread_ = 0;
  LiveBytes live_bytes_;
  std::atomic<uint32_t> next_thread_id_{1};
  std::atomic<uintptr_t> deferred_[kDeferredCapacity] = {};

  // One leak scan at a time (snapshots, the exit trace's): the roots' and
  // thread_stop's tables are shared. Taken before every other lock.
  Mutex scan_mutex_;
  Mutex late_mutex_;  // serialises late records and the writer after the snapshot
  TraceWriter writer_;
  TraceOutput output_{&writer_};  // the process's trace
  TraceWriter snapshot_writer_;
};

// The one tracker of this process.
Tracker& tracker();

}  // namespace nantrack
