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

#include <atomic>
#include <bit>
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

// The rules by address for the whole process, direct-mapped over 64 Ki
// slots (a compiler's stacks pass through ~75,000 distinct return
// addresses; 4 Ki slots missed 1.5 million times in one compile, at ~200
// ns each). Shared by every thread: a thread pool's new thread finds the
// rules its siblings read, and the memory (1.5 MiB reserved, touched as
// used) does not grow with the number of threads. Unsupported addresses
// are remembered too.
//
// Lock-free: each slot is a small seqlock. A reader that sees a slot
// change under it treats it as a miss; a writer that finds a slot being
// written leaves it. Keys carry the unwind generation (bumped when a
// module is unloaded, whose addresses may then hold other code), so the
// rules of an older one stop matching without a wipe.
class FrameRuleCache {
 public:
  constexpr FrameRuleCache() = default;
  FrameRuleCache(const FrameRuleCache&) = delete;
  FrameRuleCache& operator=(const FrameRuleCache&) = delete;

  bool init();  // maps the slots; false when out of memory
  bool ready() const { return slots_ != nullptr; }
  void release();
  // The generation count wrapped: forget every rule, lest one from 65,536
  // generations ago match again.
  void wipe();

  FrameRule rule_for(uintptr_t address, uint64_t generation) {
    if (address >> kAddressBits) [[unlikely]]
      return read_frame_rule(address);  // beyond 47-bit user space: uncached
    const uint64_t key = address | (generation & kGenerationMask) << kAddressBits;
    Slot& slot = slots_[(address ^ (address >> 16)) & (kSlots - 1)];
    FrameRule rule;
    if (!load(slot, key, rule)) {
      rule = read_frame_rule(address);
      store(slot, key, rule);
    }
    return rule;
  }

  static constexpr unsigned kAddressBits = 48;
  static constexpr uint64_t kGenerationMask = (uint64_t{1} << (64 - kAddressBits)) - 1;

 private:
  static constexpr size_t kSlots = size_t{1} << 16;
  struct Slot {
    std::atomic<uint64_t> version;  // odd while being written
    std::atomic<uint64_t> key;      // address | generation << kAddressBits; 0 in a fresh slot
    std::atomic<uint64_t> rule;     // a FrameRule's bytes
  };

  static bool load(const Slot& slot, uint64_t key, FrameRule& rule) {
    const uint64_t version = slot.version.load(std::memory_order_acquire);
    const uint64_t found = slot.key.load(std::memory_order_relaxed);
    const uint64_t bits = slot.rule.load(std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_acquire);
    if ((version & 1) || found != key || slot.version.load(std::memory_order_relaxed) != version) return false;
    rule = std::bit_cast<FrameRule>(bits);
    return true;
  }
  static void store(Slot& slot, uint64_t key, FrameRule rule);

  Slot* slots_ = nullptr;
};

}  // namespace nantrack
