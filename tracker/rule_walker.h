// Unwinds a stack with the frame rules of tracker/frame_rules.h instead of
// libunwind: the unwind cache's misses, most of which are first sightings of
// a stack (a compiler's parser allocating from ever new recursion paths),
// then cost a few loads per frame instead of a libunwind unwind each.
#pragma once

#include <cstdint>

#include "tracker/caller_frame.h"
#include "tracker/frame_rules.h"
#include "tracker/recording_unwinder.h"
#include "tracker/unwinder.h"

namespace nantrack {

// The frames above `caller` (return addresses minus one, without those
// `frames` skips), at most max_depth, and every stack word read, as the
// unwind cache records them. False when a frame needs what the rules do
// not cover, or a read would leave the thread's stack above caller.sp:
// then libunwind must unwind, and nothing here is valid.
// `generation`: the unwind generation the rules must be from.
bool walk_with_rules(const CallerFrame& caller, const StackBounds& stack, const Unwinder& frames,
                     FrameRuleCache& rules, uint64_t generation, uintptr_t* pcs, uint32_t max_depth,
                     uint32_t& depth, UnwindRecording& recording);

}  // namespace nantrack
