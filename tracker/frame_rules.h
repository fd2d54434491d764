// How to step from a frame to its caller at one code address, read from
// the module's DWARF call frame information (.eh_frame, found through
// .eh_frame_hdr), for the shapes nearly all compiled code has: the
// canonical frame address (CFA) is rsp or rbp plus a constant, the return
// address and (if saved) rbp sit at constant offsets from it. Anything
// else (CFA or register expressions, signal frames, stack realignment,
// unusual encodings) is "unsupported": the caller unwinds with libunwind.
//
// Everything here runs on the malloc path: no allocation, no lock, no I/O.
// Modules are found with _dl_find_object (lock-free, async-signal-safe).
#pragma once

#include <cstddef>
#include <cstdint>

namespace nantrack {

struct FrameRule {
  int32_t cfa_offset = 0;
  int16_t fp_offset = 0;  // from the CFA, when fp_saved
  int8_t ra_offset = 0;   // from the CFA, unless ra_undefined
  uint8_t cfa_from_fp : 1 = 0;  // CFA = rbp + cfa_offset (else rsp + cfa_offset)
  uint8_t fp_saved : 1 = 0;     // the caller's rbp is at CFA + fp_offset (else unchanged)
  uint8_t ra_undefined : 1 = 0; // the outermost frame: no caller
  uint8_t supported : 1 = 0;
};
static_assert(sizeof(FrameRule) == 8);

// The rule at `address` (a return address minus one: the call
// instruction), or one with supported == 0.
FrameRule read_frame_rule(uintptr_t address);

// One thread's rules by address, direct-mapped over 64 Ki slots (a
// compiler's stacks pass through ~75,000 distinct return addresses; 4 Ki
// slots missed 1.5 million times in one compile, at ~200 ns each).
// Unsupported addresses are remembered too. Emptied with the thread's
// unwind cache when a module is unloaded (its addresses may then hold
// other code): by starting a new epoch, which no older slot matches, so
// emptying touches none of the 1 MiB.
class FrameRuleCache {
 public:
  constexpr FrameRuleCache() = default;
  FrameRuleCache(const FrameRuleCache&) = delete;
  FrameRuleCache& operator=(const FrameRuleCache&) = delete;

  bool init();  // maps the slots; false when out of memory
  void release();
  void clear();

  FrameRule rule_for(uintptr_t address) {
    if (address >> kAddressBits) [[unlikely]]
      return read_frame_rule(address);  // beyond 47-bit user space: uncached
    const uint64_t key = address | epoch_ << kAddressBits;
    Slot& slot = slots_[(address ^ (address >> 16)) & (kSlots - 1)];
    if (slot.key != key) {
      slot.rule = read_frame_rule(address);
      slot.key = key;
    }
    return slot.rule;
  }

 private:
  static constexpr size_t kSlots = size_t{1} << 16;
  static constexpr unsigned kAddressBits = 48;
  static constexpr uint64_t kEpochs = uint64_t{1} << (64 - kAddressBits);
  struct Slot {
    uint64_t key;  // address | epoch << kAddressBits; 0 (epoch 0) in a fresh slot
    FrameRule rule;
  };
  Slot* slots_ = nullptr;
  uint64_t epoch_ = 1;
};

}  // namespace nantrack
