#include "tracker/rule_walker.h"

#include <cstring>

namespace nantrack {

bool walk_with_rules(const CallerFrame& caller, const StackBounds& stack, const Unwinder& frames,
                     FrameRuleCache& rules, uint64_t generation, uintptr_t* pcs, uint32_t max_depth,
                     uint32_t& depth, UnwindRecording& recording) {
  depth = 0;
  recording.read_count = 0;
  recording.read_fp = false;
  // Only words of this thread's stack at or above the caller's sp are read:
  // the same reads are safe again on a cache hit (tracker/unwind_cache.h).
  auto read = [&](uintptr_t address, uintptr_t& value) {
    if (address < caller.sp || address > stack.high - sizeof(value) || address - caller.sp > UINT32_MAX ||
        recording.read_count == UnwindRecording::kMaxReads)
      return false;
    std::memcpy(&value, reinterpret_cast<const void*>(address), sizeof(value));
    recording.offsets[recording.read_count] = static_cast<uint32_t>(address - caller.sp);
    recording.values[recording.read_count++] = value;
    return true;
  };
  uintptr_t pc = caller.pc, sp = caller.sp;
  // rbp is read only when a frame's CFA is based on it, as libunwind does:
  // -O2 code keeps data in rbp, and a saved data value read for nothing
  // would make the recording differ on every call (sqlite3: a quarter of
  // the hits lost).
  uintptr_t fp = caller.fp;
  uintptr_t fp_slot = 0;    // where the current frame's rbp was saved; 0: in the register
  bool fp_known = true;     // fp holds it
  while (pc != 0 && depth < max_depth) {
    // Return addresses point after the call; minus one names the call, and
    // finds its rule even when the call ends its function.
    if (!frames.skips(pc)) pcs[depth++] = pc - 1;
    if (depth == max_depth) break;
    const FrameRule rule = rules.rule_for(pc - 1, generation);
    if (!rule.supported) return false;
    if (rule.ra_undefined) break;  // the outermost frame
    if (rule.cfa_from_fp) {
      if (!fp_known) {
        if (!read(fp_slot, fp)) return false;
        fp_known = true;
      } else if (!fp_slot) {
        recording.read_fp = true;
      }
    }
    const uintptr_t cfa = (rule.cfa_from_fp ? fp : sp) + static_cast<intptr_t>(rule.cfa_offset);
    uintptr_t return_address = 0;
    if (!read(cfa + static_cast<intptr_t>(rule.ra_offset), return_address)) return false;
    if (rule.fp_saved) {
      fp_slot = cfa + static_cast<intptr_t>(rule.fp_offset);
      fp_known = false;
    }
    sp = cfa;
    pc = return_address;
  }
  return true;
}

}  // namespace nantrack
