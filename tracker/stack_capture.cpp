#include "tracker/stack_capture.h"

#include <cstring>

#include "tracker/rule_walker.h"
#include "tracker/stack_switch.h"
#include "tracker/stderr_output.h"
#include "tracker/text_buffer.h"

namespace nantrack {

void StackCapture::configure(const Options& options) {
  max_depth_ = static_cast<uint32_t>(options.stack_depth);
  use_cache_ = options.unwind_cache;
  check_ = options.unwind_check;
}

bool StackCapture::start(uintptr_t own_code_begin, uintptr_t own_code_end) {
  unwinder_.skip_frames_in(own_code_begin, own_code_end);
  const bool loaded = unwinder_.load();
  // Without the remote interface the cache would never fill: plain unwinds.
  use_cache_ = use_cache_ && loaded && recorder_.load();
  if (use_cache_) {
    UnwindCache::choose_hash_keys();  // before any thread has a cache
    rules_.init();  // without it, misses go to libunwind
  }
  // Threads take their states with the cache off too, without its tables:
  // for their alternate signal stacks and their stacks' bounds.
  start_thread_unwind_states(use_cache_);
  return loaded;
}

void StackCapture::forget_cached_stacks() {
  uint64_t generation = g_unwind_generation.fetch_add(1, std::memory_order_relaxed) + 1;
  if ((generation & FrameRuleCache::kGenerationMask) == 0) rules_.wipe();
  recorder_.flush();
}

void StackCapture::after_fork_in_child() {
  reclaim_thread_unwind_states_in_child();
  // The child reports its own unwind check.
  hits_verified_ = walks_verified_ = mismatches_ = recorded_ = not_cacheable_ = 0;
}

StackId StackCapture::capture_uncached(StackDepot& depot) {
  uintptr_t pcs[Unwinder::kCaptureEntries];
  return depot.intern(pcs, unwinder_.capture(pcs, max_depth_));
}

namespace {

// The thread's unwind stack, mapped at its first use; nullptr when it
// cannot be.
char* unwind_stack_of(ThreadUnwindState& state) {
  if (!state.unwind_stack) state.unwind_stack = map_stack(ThreadUnwindState::kUnwindStackBytes);
  return state.unwind_stack;
}

}  // namespace

StackId StackCapture::capture_off_stack(StackDepot& depot, ThreadUnwindState& state) {
  uint32_t depth = 0;
  auto unwind = [&] { depth = unwinder_.capture(state.pcs, max_depth_); };
  if (char* stack = unwind_stack_of(state))
    call_on_stack_of_ours(unwind, stack, stack + ThreadUnwindState::kUnwindStackBytes);
  else
    unwind();
  return depot.intern(state.pcs, depth);
}

StackId StackCapture::capture_on_miss(const CallerFrame& caller, ThreadUnwindState& state, StackDepot& depot) {
  uintptr_t* const pcs = state.pcs;
  uint32_t depth = 0;
  // Most stacks walk with the frame rules, which record as they go: caching
  // what a walk read costs little more than the walk, so it is cached at
  // once (waiting for a second sighting left cc1plus with 37% more walks).
  if (rules_.ready() && walk_with_rules(caller, state.stack, unwinder_, rules_, state.generation, pcs, max_depth_,
                                        depth, state.recording)) {
    StackId id = depot.intern(pcs, depth);
    if (check_) [[unlikely]]
      verify(caller, id, depot, "rule walk", walks_verified_);
    if (id != kNoStack) state.cache.insert(caller, state.recording, id);
    return id;
  }
  // libunwind takes about 6 KiB of the stack it runs on (README): a
  // thread with less left is unwound on its unwind stack, as a call on a
  // coroutine's stack is, rather than overflow where natively it does not.
  if (reinterpret_cast<uintptr_t>(__builtin_frame_address(0)) - state.stack.low < kLibunwindStackNeed) [[unlikely]]
    return capture_off_stack(depot, state);
  depth = unwinder_.capture(pcs, max_depth_);
  StackId id = depot.intern(pcs, depth);
  if (id == kNoStack || state.cache.note_sighting(caller, id) != UnwindCache::Sighting::Again) return id;
  // Seen twice: worth a recorded unwind. It is cached only if it gives
  // exactly the frames libunwind's own unwind just gave.
  uint32_t replayed_depth = 0;
  bool replayable = recorder_.unwind(caller, state.stack, unwinder_, state.replayed_pcs, max_depth_, replayed_depth,
                                     state.recording, state.segments);
  bool same = replayed_depth == depth && std::memcmp(state.replayed_pcs, pcs, depth * sizeof(uintptr_t)) == 0;
  if (replayable && same) {
    state.cache.insert(caller, state.recording, id);
    if (check_) recorded_.fetch_add(1, std::memory_order_relaxed);
  } else {
    state.cache.refuse(caller, id);
    if (check_) not_cacheable_.fetch_add(1, std::memory_order_relaxed);
  }
  return id;
}

void StackCapture::verify(const CallerFrame& caller, StackId found, StackDepot& depot, const char* what,
                          std::atomic<uint64_t>& verified) {
  uintptr_t pcs[Unwinder::kCaptureEntries];
  uint32_t depth = unwinder_.capture(pcs, max_depth_);
  StackView expected = depot.get(found);
  if (expected.depth == depth && std::memcmp(expected.pcs, pcs, depth * sizeof(uintptr_t)) == 0) {
    verified.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  note_mismatch(what, caller.pc, expected, pcs, depth);
}

void StackCapture::note_mismatch(const char* what, uintptr_t caller_pc, StackView expected, const uintptr_t* pcs,
                                 uint32_t depth) {
  uint64_t index = mismatches_.fetch_add(1, std::memory_order_relaxed);
  if (index >= kMismatchDetails) return;
  Mismatch& detail = mismatch_details_[index];
  detail.what = what;
  detail.caller_pc = caller_pc;
  detail.expected_depth = expected.depth;
  detail.actual_depth = depth;
  for (uint32_t i = 0; i < kDetailFrames; ++i) {
    detail.expected[i] = i < expected.depth ? expected.pcs[i] : 0;
    detail.actual[i] = i < depth ? pcs[i] : 0;
  }
}

namespace {
void print_frames(TextBuffer& line, const uintptr_t* pcs, uint32_t depth, uint32_t shown) {
  line << depth << " frames:";
  for (uint32_t i = 0; i < depth && i < shown; ++i) (line << ' ').hex(pcs[i]);
  if (depth > shown) line << " ...";
}
}  // namespace

void StackCapture::print_check_summary() const {
  if (!check_) return;
  InlineText<256> summary;
  summary << "nantrack: unwind check: " << hits_verified_.load() << " hits verified, " << mismatches_.load()
          << " mismatches (" << walks_verified_.load() << " rule walks verified, " << recorded_.load()
          << " stacks recorded, " << not_cacheable_.load() << " not cacheable)\n";
  print_to_stderr(summary.view());
  uint64_t details = mismatches_.load();
  for (uint64_t i = 0; i < details && i < kMismatchDetails; ++i) {
    const Mismatch& detail = mismatch_details_[i];
    InlineText<1024> line;
    line << "nantrack: unwind check: " << detail.what << " from caller ";
    line.hex(detail.caller_pc) << ": found ";
    print_frames(line, detail.expected, detail.expected_depth, kDetailFrames);
    line << "; libunwind ";
    print_frames(line, detail.actual, detail.actual_depth, kDetailFrames);
    line << '\n';
    print_to_stderr(line.view());
  }
}

}  // namespace nantrack
