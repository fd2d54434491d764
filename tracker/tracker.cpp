#include "tracker/tracker.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <sys/mman.h>
#include <unistd.h>

#include "tracker/clock.h"
#include "tracker/internal_memory.h"
#include "tracker/platform.h"
#include "tracker/stderr_output.h"
#include "tracker/text_buffer.h"
#include "tracker/thread_stop.h"
#include "tracker/thread_unwind_state.h"

namespace nantrack {
namespace {

constinit Tracker g_tracker;
NANTRACK_TLS uint32_t t_thread_id = 0;

// Alignments above this cannot be served (and would not fit the record's
// alignment_log2 bits).
constexpr size_t kMaxAlignment = size_t{1} << 40;

// glibc's size field, just before each raw block: the first word libc's
// free reads.
constexpr uintptr_t kChunkSizeBytes = 8;

void print_option_error(const char* message) { print_to_stderr(message); }

// The deferred-free slots keep the kind in the top byte: user-space
// addresses on x86-64 use 47 bits.
constexpr unsigned kDeferredKindShift = 56;

}  // namespace

Tracker& tracker() { return g_tracker; }

// ---------------------------------------------------------------- set-up

void Tracker::init(const RealFunctions& real) {
  real_ = real;
  pid_ = static_cast<uint32_t>(getpid());
  ppid_ = static_cast<uint32_t>(getppid());
  note_start_stderr();
  start_ns_ = now_ns();
  parse_options(getenv("NANTRACK_OPTIONS"), options_, print_option_error);
  redzones_ = RedzoneLayout(options_.redzone);
  // The break before the program's first allocation is where glibc starts
  // the main heap (sbrk(0) only reads it; on failure, -1, units count from
  // there, which is as harmless as any other origin).
  main_heap_ = reinterpret_cast<uintptr_t>(sbrk(0));
  if (options_.help) {
    StderrOutput output;
    print_options_help(output.fd());
  }

  // Resolve output_dir now: the program may chdir before it exits.
  InlineText<PATH_MAX> dir;
  if (options_.output_dir.text[0] != '/') {
    char cwd[PATH_MAX];
    if (getcwd(cwd, sizeof(cwd))) dir << cwd << '/';
  }
  dir << options_.output_dir.text;
  std::memcpy(trace_dir_, dir.c_str(), dir.size() + 1);
  if (access(trace_dir_, W_OK) != 0) {
    InlineText<PATH_MAX + 128> message;
    message << "nantrack: output_dir '" << trace_dir_ << "' is not a writable directory (" << strerrordesc_np(errno)
            << "): no trace will be written\n";
    print_to_stderr(message.view());
  }

  // The shared budget keeps all shards together within the limits. A
  // thread's blocks go to one group of shards (BlockPlace), so a shard may
  // hold a group's share of the blocks (its ring is sized for them; at
  // least one) and any block the byte limit allows: quarantine_blocks=1 or
  // a single block as large as quarantine_bytes is still held.
  const uint64_t bytes = options_.quarantine_bytes, blocks = static_cast<uint64_t>(options_.quarantine_blocks);
  keeps_free_stacks_ = bytes && blocks;
  const auto shard_blocks = static_cast<uint32_t>(blocks ? std::max<uint64_t>(blocks / kShardsPerGroup, 1) : 0);
  quarantine_budget_.configure(bytes, blocks, kShardCount);
  for (size_t i = 0; i < kShardCount; ++i)
    shards_[i].quarantine.configure(bytes, shard_blocks, &quarantine_budget_, static_cast<uint32_t>(i));
  stacks_.configure(options_);
  depot_.init();
  untracked_.init();
  errors_.init();
  initialized_.store(true, std::memory_order_release);
}

void Tracker::start(int argc, char** argv, uintptr_t own_code_begin, uintptr_t own_code_end) {
  ssize_t n = readlink("/proc/self/exe", exe_path_, sizeof(exe_path_) - 1);
  exe_path_[n > 0 ? n : 0] = '\0';
  modules_.init(exe_path_);
  modules_.refresh();

  // Keep a copy of argv as it was at start: programs may rewrite theirs.
  // Up to 64 KiB of it; past that, one last entry says how many more there
  // were, so that a cut list does not pass for the whole.
  constexpr size_t kMaxArgvBytes = 64 * 1024, kRoomForMore = 64;
  argv_ = static_cast<char*>(map_memory(kMaxArgvBytes + kRoomForMore));
  int kept = 0;
  for (; argv_ && argv && kept < argc && argv[kept]; ++kept) {
    size_t length = std::strlen(argv[kept]) + 1;
    if (argv_bytes_ + length > kMaxArgvBytes) break;
    std::memcpy(argv_ + argv_bytes_, argv[kept], length);
    argv_bytes_ += length;
    ++argc_;
  }
  if (argv_ && kept < argc) {
    InlineText<kRoomForMore> more;
    more << "[" << static_cast<uint64_t>(argc - kept) << " more arguments not kept]";
    std::memcpy(argv_ + argv_bytes_, more.c_str(), more.size() + 1);
    argv_bytes_ += more.size() + 1;
    ++argc_;
  }

  leak_roots_.init(options_.scan_mappings && real_.glibc_heap);
  install_thread_stop_handler();
  live_bytes_.start();

  if (!stacks_.start(own_code_begin, own_code_end))
    print_to_stderr("nantrack: cannot load libunwind.so.8: allocations will be recorded without stacks\n");
  started_.store(true, std::memory_order_release);
}

// ---------------------------------------------------------------- hot path
// What every malloc and free runs is inlined into on_allocation() and
// on_deallocation() (NANTRACK_ALWAYS_INLINE): as eight separate calls, their
// prologues, argument passing and record copies were 7% of churn's
// instructions and 4% of sqlite3's.

uint32_t Tracker::thread_id() {
  if (!t_thread_id) [[unlikely]]
    t_thread_id = next_thread_id_.fetch_add(1, std::memory_order_relaxed);
  return t_thread_id;
}

NANTRACK_ALWAYS_INLINE StackId Tracker::capture_stack(const CallerFrame* caller) {
  if (!started_.load(std::memory_order_acquire)) [[unlikely]] {
    // No unwinding before start(): libunwind is not loaded yet, and the
    // loader may be mid-relocation. The direct caller costs nothing.
    if (!caller) return kNoStack;
    uintptr_t pc = caller->pc - 1;
    return depot_.intern(&pc, 1);
  }
  return stacks_.capture(caller, depot_);
}

BlockRecord Tracker::live_record(void* block, size_t size, AllocKind kind, bool ignored, uint8_t alignment_log2,
                                 StackId stack, uint32_t thread) {
  // Every field at once: set one by one, the bit fields were stored a
  // byte or two at a time and then read back as one word by the table's
  // copy, a load the processor cannot forward from those stores: it waited
  // for them to reach the cache, a quarter of on_allocation's time.
  return BlockRecord{.address = reinterpret_cast<uintptr_t>(block),
                     .size = size,
                     .kind = static_cast<uint8_t>(kind),
                     .freed = 0,
                     .ignored = ignored,
                     .alignment_log2 = alignment_log2,
                     .alloc_stack = stack,
                     .thread_or_free_stack = thread};
}

bool Tracker::raw_size(size_t size, size_t alignment, size_t& raw_bytes) const {
  // Larger alignments cannot be served anyway; this keeps the log2 in its bits.
  if (alignment > kMaxAlignment) return false;
  uint8_t log2 = RedzoneLayout::alignment_log2(alignment);
  return !__builtin_add_overflow(size, redzones_.front(log2) + redzones_.back(), &raw_bytes);
}

void* Tracker::raw_block(const BlockRecord& record) const {
  return reinterpret_cast<void*>(record.address - redzones_.front(static_cast<uint8_t>(record.alignment_log2)));
}

// Both entry points start loading the block's record (and on free its
// front guard bytes) before capturing the stack: the record was last
// touched long ago and is usually out of the nearer caches, and the unwind
// cache lookup (tens of ns) hides most of that wait.
void* Tracker::on_allocation(void* raw, size_t size, AllocKind kind, size_t alignment, const CallerFrame& caller) {
  uint8_t alignment_log2 = RedzoneLayout::alignment_log2(alignment);
  uintptr_t address = reinterpret_cast<uintptr_t>(raw) + redzones_.front(alignment_log2);
  shard_for(address).blocks.prefetch(address);
  return track(raw, size, kind, alignment_log2, capture_stack(&caller));
}

NANTRACK_ALWAYS_INLINE void* Tracker::track(void* raw, size_t size, AllocKind kind, uint8_t alignment_log2, StackId stack, size_t kept) {
  if (deferred_pending_.load(std::memory_order_relaxed)) [[unlikely]]
    drain_deferred();
  size_t front = redzones_.front(alignment_log2);
  uint8_t* block = static_cast<uint8_t*>(raw) + front;
  if (redzones_.enabled()) {
    fill_pattern(raw, front, kRedzonePattern);
    fill_pattern(block + size, redzones_.back(), kRedzonePattern);
  }
  if (options_.malloc_fill >= 0 && kind != AllocKind::Calloc && size > kept)
    std::memset(block + kept, int(options_.malloc_fill), size - kept);
  const auto address = reinterpret_cast<uintptr_t>(block);
  const bool ignored = t_leak_checks_disabled != 0;
  const uint32_t thread = thread_id();
  CompactRecord compact;
  const bool fits = CompactRecord::make(address, size, static_cast<uint8_t>(kind), ignored, alignment_log2, stack,
                                        thread, compact);
  Shard& shard = shard_for(address);
  bool recorded;
  {
    LockGuard guard(shard.mutex);
    recorded = fits ? shard.blocks.insert(compact)
                    : shard.blocks.insert(live_record(block, size, kind, ignored, alignment_log2, stack, thread));
    if (recorded) {
      ++shard.allocations;
      shard.bytes_allocated += size;
    }
  }
  if (!recorded) [[unlikely]]
    return give_up_tracking(raw, size, kind, alignment_log2, kept);
  live_bytes_.add(static_cast<int64_t>(size));
  if (late_.load(std::memory_order_relaxed)) [[unlikely]]
    write_late_allocation(live_record(block, size, kind, ignored, alignment_log2, stack, thread));
  return block;
}

void Tracker::lose_track() {
  if (!lost_track_.exchange(true, std::memory_order_relaxed))
    print_to_stderr(
        "nantrack: out of memory for its own tables (is the address space limited?): blocks it cannot "
        "record go untracked, and frees it cannot check go to libc unchecked\n");
}

void* Tracker::give_up_tracking(void* raw, size_t size, AllocKind kind, uint8_t alignment_log2, size_t kept) {
  // The block's free will bring an address the table does not know: from
  // now on such frees go to libc.
  lose_track();
  if (alignment_log2 > RedzoneLayout::alignment_log2(16)) {
    real_.free(raw);
    errno = ENOMEM;
    return nullptr;
  }
  auto* bytes = static_cast<uint8_t*>(raw);
  const size_t front = redzones_.front(alignment_log2);
  // The contents start at the raw block now; calloc's zeroes were under
  // the front guard bytes' pattern.
  std::memmove(bytes, bytes + front, kept);
  if (kind == AllocKind::Calloc) std::memset(bytes, 0, front < size ? front : size);
  return raw;
}

NANTRACK_ALWAYS_INLINE bool Tracker::intact(const BlockRecord& record) const {
  const auto* block = reinterpret_cast<const uint8_t*>(record.address);
  if (redzones_.enabled()) {
    size_t front = redzones_.front(static_cast<uint8_t>(record.alignment_log2));
    if (!holds_pattern(block - front, front, kRedzonePattern) ||
        !holds_pattern(block + record.size, redzones_.back(), kRedzonePattern))
      return false;
  }
  return !record.freed || options_.free_fill < 0 ||
         holds_pattern(block, record.size, static_cast<uint8_t>(options_.free_fill));
}

size_t Tracker::inspect(const BlockRecord& record, ErrorRecord* errors) {
  if (intact(record)) [[likely]]
    return 0;
  return describe_damage(record, errors);
}

size_t Tracker::describe_damage(const BlockRecord& record, ErrorRecord* errors) {
  ErrorRecord base;
  base.alloc_kind = static_cast<uint8_t>(record.kind);
  base.dealloc_kind = DeallocKind::None;
  base.address = base.block_address = record.address;
  base.block_size = record.size;
  base.alloc_stack = record.alloc_stack;
  base.free_stack = record.free_stack();
  size_t count = 0;
  uint8_t* block = reinterpret_cast<uint8_t*>(record.address);
  if (redzones_.enabled()) {
    size_t front = redzones_.front(static_cast<uint8_t>(record.alignment_log2));
    Damage before = find_damage(block - front, front, kRedzonePattern);
    if (before.bytes_changed) {
      ErrorRecord& error = errors[count++] = base;
      error.kind = ErrorKind::HeapOverflow;
      error.overflow_side = OverflowSide::Before;
      error.bytes_changed = before.bytes_changed;
      error.first_changed_offset = front - before.last_offset;
      std::memset(block - front, kRedzonePattern, front);
    }
    Damage after = find_damage(block + record.size, redzones_.back(), kRedzonePattern);
    if (after.bytes_changed) {
      ErrorRecord& error = errors[count++] = base;
      error.kind = ErrorKind::HeapOverflow;
      error.overflow_side = OverflowSide::After;
      error.bytes_changed = after.bytes_changed;
      error.first_changed_offset = record.size + after.first_offset;
      std::memset(block + record.size, kRedzonePattern, redzones_.back());
    }
  }
  if (record.freed && options_.free_fill >= 0) {
    uint8_t fill = static_cast<uint8_t>(options_.free_fill);
    Damage inside = find_damage(block, record.size, fill);
    if (inside.bytes_changed) {
      ErrorRecord& error = errors[count++] = base;
      error.kind = ErrorKind::WriteAfterFree;
      error.bytes_changed = inside.bytes_changed;
      error.first_changed_offset = inside.first_offset;
      std::memset(block, fill, record.size);
    }
  }
  return count;
}

// The shard's oldest quarantined block leaves quarantine; its record goes
// to `evicted`. The shard's lock is held. Inline: every free evicts about
// one.
NANTRACK_ALWAYS_INLINE void Tracker::evict_oldest(Shard& shard, EvictedBlocks& evicted) {
  evicted.records[evicted.count++] = shard.quarantine.pop_oldest();
}

// What leaving quarantine reads of a block: from libc's size field before
// the raw block (its free reads it first) to the end of the back guard
// bytes.
NANTRACK_ALWAYS_INLINE Tracker::ByteRange Tracker::bytes_read_on_release(const BlockRecord& record) const {
  const auto raw = reinterpret_cast<uintptr_t>(raw_block(record));
  return {raw - kChunkSizeBytes, record.address + record.size + redzones_.back()};
}

// Starts loading every line of those bytes, up to 512 (the hardware
// prefetcher takes over on longer blocks).
NANTRACK_ALWAYS_INLINE void Tracker::prefetch_block(const BlockRecord& record) const {
  constexpr uintptr_t kLine = 64, kMaxBytes = 512;
  const ByteRange read = bytes_read_on_release(record);
  const uintptr_t first = read.begin & ~(kLine - 1);
  const uintptr_t end = read.end - first > kMaxBytes ? first + kMaxBytes : read.end;
  for (uintptr_t line = first; line < end; line += kLine) __builtin_prefetch(reinterpret_cast<const void*>(line));
}

// Blocks leave a large quarantine a batch at a time: release_evicted()
// then starts loading all of theirs before it checks the first, and their
// cache misses overlap instead of coming one per free (medians of 7 to 11
// alternating runs: churn 1.49 s -> 1.44 s, sqlite3 inserting 100k rows
// 0.87 s -> 0.81 s). A batch is a few
// blocks of thousands: they leave a few frees early. A small quarantine
// (quarantine_blocks=1, or 64 to catch one write after free) keeps exactly
// as many as it is given.
NANTRACK_ALWAYS_INLINE void Tracker::evict(Shard& shard, EvictedBlocks& evicted) {
  const size_t batch_end =
      shard.quarantine.over_limit() && shard.quarantine.count() >= kBatchedFrom ? evicted.count + kEvictionBatch : 0;
  while ((shard.quarantine.over_limit() || evicted.count < batch_end) && evicted.count < kMaxEvictedPerCall)
    evict_oldest(shard, evicted);
  if (shard.quarantine.pressed()) [[unlikely]]
    evict_by_age(shard, evicted);
  if (shard.evictions_asked.load(std::memory_order_relaxed)) [[unlikely]]
    give_asked_evictions(shard, evicted);
  // The next block to leave was freed long ago: its bytes and guard bytes
  // are cold, and so are the ring's next entries. Start loading them now,
  // so that by the time this shard evicts again (after other frees and the
  // program's own work) the free-fill check and libc's free find them in
  // cache instead of waiting on memory (sqlite3 inserting 100k rows: a
  // sixth of its time).
  if (evicted.count && shard.quarantine.count()) {
    shard.quarantine.prefetch_ahead();
    prefetch_block(shard.quarantine.oldest());
  }
}

// Under the pressure of the shared limits: makes room elsewhere if `self`
// asks for it, and on every kOldestRefresh-th free of the shard looks again
// for the shard holding the oldest blocks. Without pressure none of this
// is needed (in the hot path, noting the freeing thread cost churn 2%).
void Tracker::evict_by_age(Shard& self, EvictedBlocks& evicted) {
  self.last_freer.store(thread_id(), std::memory_order_relaxed);
  if (self.quarantine.wants_room_elsewhere() && evicted.count < kMaxEvictedPerCall) evict_elsewhere(self, evicted);
  if (self.frees % kOldestRefresh == 0) find_oldest_elsewhere(self);
}

// Takes blocks older than any of `self`'s from the shard last found holding
// the oldest (find_oldest_elsewhere()), a few at a time: each visit takes
// its lock. Only tried: `self`'s lock is held, and waiting for a second
// lock could deadlock. When that shard has none older or is busy, `self`
// gives up its own oldest instead (not the block just pushed), so that
// together the quarantines stay within the limits, and looks again.
// Another thread's shard is asked instead (asks_instead()).
void Tracker::evict_elsewhere(Shard& self, EvictedBlocks& evicted) {
  Shard& other = shards_[self.oldest_elsewhere];
  const uint64_t own_oldest = self.quarantine.oldest_stamp();
  if (&other != &self && asks_instead(other) && age_compared(other) < own_oldest) {
    other.evictions_asked.fetch_add(kEvictionBatch, std::memory_order_relaxed);
    return;
  }
  size_t taken = 0;
  if (&other != &self && other.mutex.try_lock()) {
    while (taken < kEvictionBatch && evicted.count < kMaxEvictedPerCall && other.quarantine.count() &&
           age_compared(other) < own_oldest) {
      evict_oldest(other, evicted);
      ++taken;
    }
    other.mutex.unlock();
  }
  if (taken) return;
  if (self.quarantine.count() > 1) evict_oldest(self, evicted);
  find_oldest_elsewhere(self);
}

// Whether another thread's shard should give up its oldest blocks itself,
// on its next free, rather than have them taken now. A block released by
// this thread goes to this thread's cache in libc (tcache), whichever
// arena it came from; its next malloc hands the block out here, and its
// free then lands in the other thread's shards and arena: both locks
// contended, their lines moving between cores. Two threads churning made
// 3% of their frees into each other's shards so, and 5M pairs took 1.16 s
// instead of 1.02 s (this and leaves_evictions_to_its_thread(), medians of
// 7). Taken after all when the shard's thread seems to have stopped
// freeing (kUnpaidEvictions asked and not given), or when waiting would
// leave the shared limits too far behind.
bool Tracker::asks_instead(const Shard& other) {
  return other.last_freer.load(std::memory_order_relaxed) != thread_id() &&
         other.evictions_asked.load(std::memory_order_relaxed) < kUnpaidEvictions &&
         !quarantine_budget_.far_exceeded();
}

// Whether a free into another thread's shard (the last to free into it
// under the shared limits' pressure) leaves it to that thread to evict:
// the blocks evicted here would go to this thread's cache in libc, and
// from there to its next mallocs (asks_instead()). Once a block had gone
// so, its free evicted another, and a thread freeing a producer's blocks
// came to get a fifth of its own from the producer's heap. Not when the
// shard is far over its limits, or all of them are: its thread may have
// stopped freeing.
NANTRACK_ALWAYS_INLINE bool Tracker::leaves_evictions_to_its_thread(const Shard& shard) {
  const uint32_t freer = shard.last_freer.load(std::memory_order_relaxed);
  return freer && freer != thread_id() && !shard.quarantine.far_over_limit() && !quarantine_budget_.far_exceeded();
}

// On a free into a shard asked for its oldest blocks: gives them, up to
// the call's bound; the rest wait for the next free. A quarantine left with
// one block owes nothing more.
void Tracker::give_asked_evictions(Shard& shard, EvictedBlocks& evicted) {
  const uint32_t asked = shard.evictions_asked.load(std::memory_order_relaxed);
  uint32_t given = 0;
  while (given < asked && evicted.count < kMaxEvictedPerCall && shard.quarantine.count() > 1) {
    evict_oldest(shard, evicted);
    ++given;
  }
  shard.evictions_asked.fetch_sub(shard.quarantine.count() > 1 ? given : asked, std::memory_order_relaxed);
}

// The stamp of a shard's oldest quarantined block, as this thread weighs
// it against its own: a shard another thread freed into last counts as
// half a quarantine of frees younger. Taking another thread's blocks costs
// both threads (its lines, its arena's lock in libc's free): two threads
// freeing alike evicted a quarter of their blocks from each other, and
// churn over 2 threads took 14% longer. Its blocks still go once it stops
// freeing and they wait that much longer. (Stamps count frees, so adding
// to one cannot overflow.)
uint64_t Tracker::age_compared(const Shard& shard) {
  const uint64_t stamp = shard.quarantine.oldest_stamp();
  if (stamp == Quarantine::kNoStamp || shard.last_freer.load(std::memory_order_relaxed) == thread_id()) return stamp;
  return stamp + quarantine_budget_.held_blocks() / 2;
}

// Which other shard's quarantine holds the oldest block, and its stamp,
// for `self` to compare its own with (Quarantine::configure), as this
// thread weighs them (age_compared()). Looked for now and then under
// pressure (evict_by_age()): the slack it is compared with is thousands
// of frees.
void Tracker::find_oldest_elsewhere(Shard& self) {
  uint64_t oldest = Quarantine::kNoStamp;
  size_t oldest_shard = static_cast<size_t>(&self - shards_);
  for (uint64_t in_use = quarantine_budget_.in_use(); in_use; in_use &= in_use - 1) {
    const size_t index = static_cast<size_t>(std::countr_zero(in_use));
    if (&shards_[index] == &self) continue;
    const uint64_t stamp = age_compared(shards_[index]);
    if (stamp < oldest) {
      oldest = stamp;
      oldest_shard = index;
    }
  }
  self.oldest_elsewhere = static_cast<uint32_t>(oldest_shard);
  self.quarantine.note_oldest_elsewhere(oldest);
}

// The evicted blocks are out of the table: no other thread can reach them,
// so they are checked without the shard lock.
NANTRACK_ALWAYS_INLINE void Tracker::release_evicted(const EvictedBlocks& evicted) {
  // A batch's blocks are loaded at once (evict()). Only the first and the
  // last line of each: every line of eight blocks at once was no faster
  // than one block at a time, the prefetches waiting on each other.
  if (evicted.count > 1)
    for (size_t i = 0; i < evicted.count; ++i) {
      const ByteRange read = bytes_read_on_release(evicted.records[i]);
      __builtin_prefetch(reinterpret_cast<const void*>(read.begin));
      __builtin_prefetch(reinterpret_cast<const void*>(read.end - 1));
    }
  for (size_t i = 0; i < evicted.count; ++i) {
    const BlockRecord& record = evicted.records[i];
    if (!intact(record)) [[unlikely]] {
      ErrorRecord errors[kMaxDamageErrors];
      size_t found = describe_damage(record, errors);
      for (size_t e = 0; e < found; ++e) report(errors[e]);
    }
    real_.free(raw_block(record));
  }
}

void Tracker::on_deallocation(void* block, DeallocKind kind, const CallerFrame* caller) {
  uintptr_t address = reinterpret_cast<uintptr_t>(block);
  shard_for(address).blocks.prefetch(address);
  __builtin_prefetch(block);
  __builtin_prefetch(static_cast<char*>(block) - 16);
  // Without a quarantine a free's stack is needed only when the free is an
  // error: it is captured then (skipping it saved churn 14% of its time,
  // cc1plus 11%, sqlite3 7%). With one, every freed block keeps its stack.
  if (keeps_free_stacks_) [[likely]]
    deallocate(block, kind, {capture_stack(caller)});
  else
    deallocate(block, kind, {kNoStack, true, caller});
}

// The common case, a live block freed by its family's function with its
// guard bytes intact, takes no error bookkeeping; anything else is redone
// by deallocate_checked(), which decides under the lock again.
NANTRACK_ALWAYS_INLINE void Tracker::deallocate(void* block, DeallocKind kind, FreeStack free_stack) {
  if (deferred_pending_.load(std::memory_order_relaxed)) [[unlikely]]
    drain_deferred();
  uintptr_t address = reinterpret_cast<uintptr_t>(block);
  EvictedBlocks evicted;
  void* release_now = nullptr;
  uint64_t size = 0;
  bool clean = false;
  Shard& shard = shard_for(address);
  {
    LockGuard guard(shard.mutex);
    LiveBlocks::Found live;
    clean = shard.blocks.find(address, live) && deallocation_matches(live.record.alloc_kind(), kind) &&
            intact(live.record);
    if (clean) [[likely]] {
      size = live.record.size;
      release_now = retire(shard, live, free_stack.id, evicted);
    }
  }
  if (!clean) [[unlikely]]
    return deallocate_checked(block, kind, free_stack.pending ? capture_stack(free_stack.caller) : free_stack.id);
  finish_deallocation(address, size, release_now, evicted);
}

// A live block leaves the program and the table: into quarantine (then the
// oldest blocks may leave it, into `evicted`), or, when quarantine will not
// take it, to libc: then the raw block to give libc is returned.
NANTRACK_ALWAYS_INLINE void* Tracker::retire(Shard& shard, const LiveBlocks::Found& live, StackId free_stack,
                                             EvictedBlocks& evicted) {
  ++shard.frees;
  BlockRecord freed = live.record;
  shard.blocks.remove(live);
  if (shard.quarantine.accepts(freed.size)) {
    freed.freed = 1;
    freed.thread_or_free_stack = free_stack;
    if (options_.free_fill >= 0) {
      if (freed.size >= kPageSize && real_.glibc_heap) [[unlikely]]
        open_up_if_mmapped(freed);
      std::memset(reinterpret_cast<void*>(freed.address), int(options_.free_fill), freed.size);
    }
    shard.quarantine.push(freed);
    if (!leaves_evictions_to_its_thread(shard)) [[likely]]
      evict(shard, evicted);
    return nullptr;
  }
  return raw_block(freed);
}

// A block libc mmapped for itself goes back to the kernel when it leaves
// quarantine (libc's free unmaps it), so no one can see its pages'
// protection any more. The program may have protected some of them, as it
// does a coroutine stack's guard page: natively free() reads only the
// chunk header and unmaps the rest, while the free fill and its check
// touch every byte, and faulted there. Such a block is made readable and
// writable first: one system call, beside the munmap libc makes anyway.
// It is told by its chunk header as libc's free tells it (IS_MMAPPED, and
// a page-aligned mapping). Only glibc's blocks have that header: before a
// jemalloc block of a page or more there may be no mapping at all, and
// reading there killed redis-server.
void Tracker::open_up_if_mmapped(const BlockRecord& freed) const {
  constexpr uint64_t kIsMmapped = 0x2, kFlags = 0x7;
  const auto raw = reinterpret_cast<uintptr_t>(raw_block(freed));
  uint64_t header[2];  // the chunk's prev_size (here: offset into its mapping) and size
  std::memcpy(header, reinterpret_cast<const void*>(raw - sizeof(header)), sizeof(header));
  const uint64_t mapping = raw - sizeof(header) - header[0];
  const uint64_t length = header[0] + (header[1] & ~kFlags);
  if (!(header[1] & kIsMmapped) || ((mapping | length) & (kPageSize - 1)) != 0 ||
      freed.address + freed.size + redzones_.back() > mapping + length)
    return;
  mprotect(reinterpret_cast<void*>(mapping), length, PROT_READ | PROT_WRITE);
}

// After the shard lock: what retire() took out goes back to libc.
NANTRACK_ALWAYS_INLINE void Tracker::finish_deallocation(uintptr_t address, uint64_t size, void* release_now, const EvictedBlocks& evicted) {
  release_evicted(evicted);
  if (release_now) real_.free(release_now);
  live_bytes_.add(-static_cast<int64_t>(size));
  if (late_.load(std::memory_order_relaxed)) [[unlikely]]
    write_late_free(address);
}

void Tracker::deallocate_checked(void* block, DeallocKind kind, StackId free_stack) {
  uintptr_t address = reinterpret_cast<uintptr_t>(block);
  // The errors of this call: a bad free, or the damage found on the block.
  ErrorRecord errors[kMaxDamageErrors];
  size_t error_count = 0;
  ErrorRecord& error = errors[0];
  error.address = address;
  error.dealloc_kind = kind;
  error.stack = free_stack;
  bool found = false, freed_now = false;
  void* release_now = nullptr;
  uint64_t size = 0;
  EvictedBlocks evicted;

  Shard& shard = shard_for(address);
  {
    LockGuard guard(shard.mutex);
    if (LiveBlocks::Found live; shard.blocks.find(address, live)) {
      const BlockRecord& record = live.record;
      found = freed_now = true;
      error.alloc_kind = static_cast<uint8_t>(record.kind);
      error.block_address = address;
      error.block_size = size = record.size;
      error.alloc_stack = record.alloc_stack;
      if (!deallocation_matches(record.alloc_kind(), kind)) {
        error_count = 1;
        error.kind = ErrorKind::MismatchedFree;
      }
      // Checked under the lock: once in quarantine, another thread's free
      // may evict the block.
      size_t damaged = inspect(record, errors + error_count);
      for (size_t i = error_count; i < error_count + damaged; ++i) {
        errors[i].dealloc_kind = kind;
        errors[i].stack = free_stack;
      }
      error_count += damaged;
      release_now = retire(shard, live, free_stack, evicted);
    } else if (const BlockRecord* freed = shard.quarantine.find(address)) {
      found = true;
      error_count = 1;
      error.kind = ErrorKind::DoubleFree;
      error.alloc_kind = static_cast<uint8_t>(freed->kind);
      error.block_address = address;
      error.block_size = freed->size;
      error.alloc_stack = freed->alloc_stack;
      error.free_stack = freed->free_stack();
    }
  }
  if (freed_now) finish_deallocation(address, size, release_now, evicted);
  if (!found) {
    if (untracked_.remove(address) || lost_track_.load(std::memory_order_relaxed)) {
      real_.free(block);
      return;
    }
    error_count = 1;
    error.kind = ErrorKind::InvalidFree;
    error.invalid_pointer = classify_invalid_pointer(address, error);
  }
  if (error_count) [[unlikely]]
    for (size_t i = 0; i < error_count; ++i) report(errors[i]);
}

// realloc resizes in place when libc's block has room; otherwise it moves
// the block: a new block with fresh redzones, the contents copied, the old
// block freed like any other (so it goes through quarantine and its
// redzones are checked).
void* Tracker::on_reallocation(void* block, size_t size, const CallerFrame& caller) {
  uintptr_t address = reinterpret_cast<uintptr_t>(block);
  StackId stack = capture_stack(&caller);
  if (void* resized = resize_in_place(block, size, stack)) return resized;
  BlockRecord old;
  bool live = false, freed = false;
  {
    Shard& shard = shard_for(address);
    LockGuard guard(shard.mutex);
    if (LiveBlocks::Found found; shard.blocks.find(address, found)) {
      old = found.record;
      live = true;
    } else if (const BlockRecord* record = shard.quarantine.find(address)) {
      old = *record;
      freed = true;
    }
  }
  bool was_untracked = !live && !freed && may_be_untracked(address);
  if (!live && !was_untracked) {
    ErrorRecord error;
    error.address = address;
    error.dealloc_kind = DeallocKind::Realloc;
    error.stack = stack;
    if (freed) {
      error.kind = ErrorKind::DoubleFree;
      error.alloc_kind = static_cast<uint8_t>(old.kind);
      error.block_address = address;
      error.block_size = old.size;
      error.alloc_stack = old.alloc_stack;
      error.free_stack = old.free_stack();
    } else {
      error.kind = ErrorKind::InvalidFree;
      error.invalid_pointer = classify_invalid_pointer(address, error);
    }
    report(error);
    errno = ENOMEM;
    return nullptr;
  }
  // Only a block found large here pays for the second lookup.
  if (live && old.size >= kLibcResizeBytes)
    if (void* resized = resize_by_libc(block, size, stack)) return resized;
  size_t raw_bytes = 0;
  void* raw = raw_size(size, 16, raw_bytes) ? real_.malloc(raw_bytes) : nullptr;
  if (!raw) {
    errno = ENOMEM;
    return nullptr;
  }
  int saved_errno = errno;
  void* result = track(raw, size, AllocKind::Realloc, RedzoneLayout::alignment_log2(16), stack);
  size_t old_size = live ? old.size : real_.malloc_usable_size(block);
  std::memcpy(result, block, old_size < size ? old_size : size);
  if (live) {
    deallocate(block, DeallocKind::Realloc, {stack});
  } else {
    untracked_.remove(address);
    real_.free(block);
  }
  errno = saved_errno;
  return result;
}

// A block whose raw block from libc has room for the new size (always when
// it shrinks; when it grows into libc's rounding slack) keeps its address,
// as glibc's own realloc would do: no copy, and no stale pointer that
// quarantine would have to catch. Damage to its redzones is reported first,
// since the back redzone moves. nullptr when it must move.
void* Tracker::resize_in_place(void* block, size_t size, StackId stack) {
  uintptr_t address = reinterpret_cast<uintptr_t>(block);
  ErrorRecord errors[kMaxDamageErrors];
  size_t error_count = 0;
  BlockRecord resized;
  uint64_t old_size = 0;
  {
    Shard& shard = shard_for(address);
    LockGuard guard(shard.mutex);
    LiveBlocks::Found live;
    if (!shard.blocks.find(address, live) || !deallocation_matches(live.record.alloc_kind(), DeallocKind::Realloc))
      return nullptr;
    const BlockRecord& record = live.record;
    size_t front = redzones_.front(static_cast<uint8_t>(record.alignment_log2));
    size_t needed = 0;
    if (__builtin_add_overflow(front + redzones_.back(), size, &needed) ||
        needed > real_.malloc_usable_size(raw_block(record)))
      return nullptr;
    // Counted like a move (DESIGN.md: one allocation and one free), and
    // attributed to the realloc call, as valgrind does.
    resized = record;
    resized.size = size;
    resized.kind = static_cast<uint8_t>(AllocKind::Realloc);
    resized.alloc_stack = stack;
    resized.thread_or_free_stack = thread_id();
    // A block that crosses 128 MiB moves instead, as its record would.
    if (!LiveBlocks::can_update(live, resized)) return nullptr;
    error_count = inspect(record, errors);
    old_size = record.size;
    auto* bytes = static_cast<uint8_t*>(block);
    if (size > old_size && options_.malloc_fill >= 0)
      std::memset(bytes + old_size, int(options_.malloc_fill), size - old_size);
    if (redzones_.enabled()) fill_pattern(bytes + size, redzones_.back(), kRedzonePattern);
    shard.blocks.update(live, resized);
    ++shard.allocations;
    ++shard.frees;
    shard.bytes_allocated += size;
  }
  report_realloc_damage(errors, error_count, stack);
  live_bytes_.add(static_cast<int64_t>(size) - static_cast<int64_t>(old_size));
  if (late_.load(std::memory_order_relaxed)) [[unlikely]] {
    write_late_free(address);
    write_late_allocation(resized);
  }
  return block;
}

void Tracker::report_realloc_damage(ErrorRecord* errors, size_t count, StackId stack) {
  for (size_t i = 0; i < count; ++i) {
    errors[i].dealloc_kind = DeallocKind::Realloc;
    errors[i].stack = stack;
    report(errors[i]);
  }
}

// A large block (glibc maps blocks of 128 KiB and more with mmap) is
// resized by libc's realloc, which moves its pages with mremap or grows it
// in place instead of copying it: a buffer grown 4 KiB at a time to 16 MiB
// took 22 s when every step copied, 0.02 s now (0.01 s natively). The old
// block does not go to quarantine, so a stale pointer to it is not caught:
// within quarantine_bytes it would have held a few such blocks at most.
// nullptr when the block is not such a block (checked again under the
// lock: the caller looked without holding it) or libc could not resize it.
void* Tracker::resize_by_libc(void* block, size_t size, StackId stack) {
  uintptr_t address = reinterpret_cast<uintptr_t>(block);
  constexpr uint8_t kPlainAlignment = RedzoneLayout::alignment_log2(16);
  size_t raw_bytes = 0;
  if (!real_.realloc || !raw_size(size, 16, raw_bytes)) return nullptr;
  ErrorRecord errors[kMaxDamageErrors];
  size_t error_count = 0;
  BlockRecord old;
  Shard& shard = shard_for(address);
  {
    LockGuard guard(shard.mutex);
    LiveBlocks::Found live;
    if (!shard.blocks.find(address, live) || live.record.size < kLibcResizeBytes ||
        live.record.alignment_log2 != kPlainAlignment ||
        !deallocation_matches(live.record.alloc_kind(), DeallocKind::Realloc))
      return nullptr;
    error_count = inspect(live.record, errors);
    old = live.record;
    shard.blocks.remove(live);
    ++shard.frees;
  }
  report_realloc_damage(errors, error_count, stack);
  void* raw = real_.realloc(raw_block(old), raw_bytes);
  if (!raw) {  // the block stays where it was, tracked as before
    LockGuard guard(shard.mutex);
    shard.blocks.insert(old);
    --shard.frees;
    return nullptr;
  }
  finish_deallocation(address, old.size, nullptr, EvictedBlocks{});
  return track(raw, size, AllocKind::Realloc, kPlainAlignment, stack, old.size < size ? old.size : size);
}

void Tracker::retag(void* block, AllocKind kind) {
  uintptr_t address = reinterpret_cast<uintptr_t>(block);
  Shard& shard = shard_for(address);
  LockGuard guard(shard.mutex);
  LiveBlocks::Found live;
  if (!shard.blocks.find(address, live)) return;
  live.record.kind = static_cast<uint8_t>(kind);
  shard.blocks.update(live, live.record);
}

std::optional<size_t> Tracker::live_size(void* block, bool wait) {
  uintptr_t address = reinterpret_cast<uintptr_t>(block);
  Shard& shard = shard_for(address);
  if (wait)
    shard.mutex.lock();
  else if (!shard.mutex.try_lock())
    return std::nullopt;
  LiveBlocks::Found live;
  std::optional<size_t> size;
  if (shard.blocks.find(address, live)) size = size_t{live.record.size};
  shard.mutex.unlock();
  return size;
}

// ---------------------------------------------------------------- errors

InvalidPointer Tracker::classify_invalid_pointer(uintptr_t address, ErrorRecord& error) {
  // No block lies on a stack or in a module's data: those are told first,
  // without the walk over every live block (a bad free of a global in a
  // loop, with a million blocks live, took 2.5 ms a call).
  StackBounds stack;
  if (this_thread_stack_bounds(stack) && stack.contains(address)) return InvalidPointer::StackAddress;
  if (is_module_address(address)) return InvalidPointer::GlobalAddress;
  for (Shard& shard : shards_) {
    LockGuard guard(shard.mutex);
    BlockRecord block;
    bool found = shard.blocks.find_containing(address, block);
    if (!found)
      if (const BlockRecord* freed = shard.quarantine.find_containing(address)) {
        block = *freed;
        found = true;
      }
    if (found) {
      error.block_address = block.address;
      error.block_size = block.size;
      error.alloc_kind = static_cast<uint8_t>(block.kind);
      error.alloc_stack = block.alloc_stack;
      return InvalidPointer::Interior;
    }
  }
  return InvalidPointer::NeverAllocated;
}

void Tracker::report(const ErrorRecord& error_in, bool may_abort) {
  ErrorRecord error = error_in;
  error.thread = thread_id();
  size_t index = 0;
  const ErrorLog::Added added = errors_.add(error, index);
  // A repeat is counted, not printed: a bad free in a loop would otherwise
  // bury everything else the program prints.
  if (added != ErrorLog::Added::Repeat) {
    print_error(error, depot_, pid_);
  } else if (!repeats_noted_.exchange(true, std::memory_order_relaxed)) {
    print_to_stderr("nantrack: an error shown above came again: repeats of an error are counted in the report, "
                    "not printed\n");
  }
  if (late_.load(std::memory_order_relaxed)) {
    LockGuard guard(late_mutex_);
    if (added == ErrorLog::Added::Repeat)
      write_error_repeats(output_, index, 1);
    else
      write_error(output_, error);
    writer_.flush();
  }
  if (options_.abort_on_error && may_abort) abort();
}

void Tracker::defer_deallocation(void* block, DeallocKind kind) {
  uintptr_t tagged = reinterpret_cast<uintptr_t>(block) | (uintptr_t{static_cast<uint8_t>(kind)} << kDeferredKindShift);
  for (std::atomic<uintptr_t>& slot : deferred_) {
    uintptr_t empty = 0;
    if (slot.compare_exchange_strong(empty, tagged, std::memory_order_release)) {
      deferred_pending_.store(true, std::memory_order_release);
      return;
    }
  }
  // All slots taken: better to leak this block than to risk handing libc a
  // pointer we could not check.
}

void Tracker::drain_deferred() {
  deferred_pending_.store(false, std::memory_order_relaxed);
  for (std::atomic<uintptr_t>& slot : deferred_) {
    uintptr_t tagged = slot.exchange(0, std::memory_order_acquire);
    if (!tagged) continue;
    uintptr_t address = tagged & ((uintptr_t{1} << kDeferredKindShift) - 1);
    on_deallocation(reinterpret_cast<void*>(address), static_cast<DeallocKind>(tagged >> kDeferredKindShift));
  }
}

// ---------------------------------------------------------------- fork

bool Tracker::owns_process() const { return static_cast<uint32_t>(getpid()) == pid_; }

void Tracker::before_fork() {
  fork_locks_.scan = scan_mutex_.lock_unless_held_here();
  fork_locks_.modules = modules_.mutex().lock_unless_held_here();
  fork_locks_.late = late_mutex_.lock_unless_held_here();
  fork_locks_.errors = errors_.mutex().lock_unless_held_here();
  for (size_t i = 0; i < kShardCount; ++i) fork_locks_.shards[i] = shards_[i].mutex.lock_unless_held_here();
}

void Tracker::after_fork_in_parent() {
  for (size_t i = 0; i < kShardCount; ++i)
    if (fork_locks_.shards[i]) shards_[i].mutex.unlock();
  if (fork_locks_.errors) errors_.mutex().unlock();
  if (fork_locks_.late) late_mutex_.unlock();
  if (fork_locks_.modules) modules_.mutex().unlock();
  if (fork_locks_.scan) scan_mutex_.unlock();
}

void Tracker::after_fork_in_child() {
  after_fork_in_parent();
  ppid_ = pid_;
  pid_ = static_cast<uint32_t>(getpid());
  start_ns_ = now_ns();
  forked_child_ = true;
  stacks_.after_fork_in_child();
  write_traces_ = options_.follow_children;
  // A copy of the parent's open trace (fork during exit) is not ours to
  // append to; this child writes its own trace, or none.
  if (trace_opened_early_) {  // the parent's, opened before its sandbox
    writer_.abandon();
    trace_opened_early_ = false;
  }
  if (late_.load(std::memory_order_relaxed)) {
    writer_.abandon();
    late_.store(false, std::memory_order_relaxed);
    write_traces_ = false;
  }
}

}  // namespace nantrack
