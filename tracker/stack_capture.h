// Where the tracker's stacks come from. A call into the allocator brings
// its caller's frame (caller_frame.h); the stack above it is looked up in
// the thread's validated unwind cache (unwind_cache.h), and on a miss
// walked with the modules' frame rules (rule_walker.h) or, where those do
// not reach, unwound with libunwind, then interned in the depot. Without a
// caller frame, or with unwind_cache=0, every stack is unwound with
// libunwind's unw_backtrace, from our own frames (which are then dropped).
#pragma once

#include <atomic>
#include <cstdint>

#include "tracker/caller_frame.h"
#include "tracker/frame_rules.h"
#include "tracker/options.h"
#include "tracker/recording_unwinder.h"
#include "tracker/stack_depot.h"
#include "tracker/thread_unwind_state.h"
#include "tracker/unwinder.h"

namespace nantrack {

class StackCapture {
 public:
  constexpr StackCapture() = default;
  StackCapture(const StackCapture&) = delete;
  StackCapture& operator=(const StackCapture&) = delete;

  void configure(const Options& options);
  // Loads libunwind (from our constructor). Frames in [own_code_begin,
  // own_code_end) are ours and never part of a stack. False when libunwind
  // cannot be loaded: stacks stay empty.
  bool start(uintptr_t own_code_begin, uintptr_t own_code_end);

  // The id of the current stack, above `caller` when given. Runs inside
  // nantrack (anything it allocates is untracked); no lock is held.
  NANTRACK_ALWAYS_INLINE StackId capture(const CallerFrame* caller, StackDepot& depot) {
    if (caller && use_cache_) [[likely]] {
      ThreadUnwindState* state = this_thread_unwind_state();
      if (state && state->stack.contains(caller->sp)) [[likely]] {
        if (StackId id = state->cache.find(*caller)) [[likely]] {
          if (check_) [[unlikely]]
            verify(*caller, id, depot, "cache hit", hits_verified_);
          return id;
        }
        return capture_on_miss(*caller, *state, depot);
      }
      if (state) return capture_off_stack(depot, *state);
    }
    return capture_uncached(depot);
  }

  // Whether `pc` is in the code of a libunwind library we loaded.
  bool is_unwinder_code(uintptr_t pc) const {
    return unwinder_.library_code().contains(pc) || recorder_.library_code().contains(pc);
  }

  // A module is about to be unloaded: cached stacks may name its code.
  void forget_cached_stacks();
  void after_fork_in_child();
  // unwind_check=1: one line on stderr with the hits verified and the
  // mismatches, then the first mismatches in detail.
  void print_check_summary() const;

 private:
  NANTRACK_NOINLINE StackId capture_uncached(StackDepot& depot);
  // The same for a call made on another stack than the thread's own (a
  // coroutine's, often small), or on the thread's with little of it left:
  // run on the thread's unwind stack, with its scratch for the pcs.
  NANTRACK_NOINLINE StackId capture_off_stack(StackDepot& depot, ThreadUnwindState& state);
  NANTRACK_NOINLINE StackId capture_on_miss(const CallerFrame& caller, ThreadUnwindState& state, StackDepot& depot);
  // unwind_check=1: unwinds with libunwind and compares with `found`.
  NANTRACK_NOINLINE void verify(const CallerFrame& caller, StackId found, StackDepot& depot, const char* what,
                                std::atomic<uint64_t>& verified);
  void note_mismatch(const char* what, uintptr_t caller_pc, StackView expected, const uintptr_t* pcs, uint32_t depth);

  // Stack below capture_on_miss() that libunwind may take (measured: under
  // 6 KiB below the program's call, ours included), with room to spare.
  static constexpr uintptr_t kLibunwindStackNeed = 8 * 1024;

  Unwinder unwinder_;
  RecordingUnwinder recorder_;
  FrameRuleCache rules_;
  uint32_t max_depth_ = 64;
  bool use_cache_ = false;
  bool check_ = false;

  // unwind_check counters and the first mismatches, kept to print at exit.
  static constexpr uint32_t kMismatchDetails = 3;
  static constexpr uint32_t kDetailFrames = 12;
  struct Mismatch {
    const char* what;
    uintptr_t caller_pc;
    uint32_t expected_depth, actual_depth;
    uintptr_t expected[kDetailFrames], actual[kDetailFrames];
  };
  std::atomic<uint64_t> hits_verified_{0};
  std::atomic<uint64_t> walks_verified_{0};
  std::atomic<uint64_t> mismatches_{0};
  std::atomic<uint64_t> recorded_{0};
  std::atomic<uint64_t> not_cacheable_{0};
  Mismatch mismatch_details_[kMismatchDetails] = {};
};

}  // namespace nantrack
