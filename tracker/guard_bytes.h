// Guard bytes (redzones) around heap blocks and the fill patterns of fresh
// and freed blocks: where they are, how they are written, and how damage to
// them is measured. A block handed to the program sits inside a larger raw
// block from libc:
//
//   raw                 raw + front                 + size        + back
//   | front redzone 0xfa | the program's bytes      | back redzone 0xfa |
//
// The front redzone is the redzone option rounded up to the block's
// alignment, so the program's pointer keeps every alignment guarantee.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>

#include "tracker/platform.h"

namespace nantrack {

// The redzone pattern: not a small integer, not a plausible pointer byte.
inline constexpr uint8_t kRedzonePattern = 0xfa;

// What changed in a range that should hold one pattern byte.
struct Damage {
  uint32_t bytes_changed = 0;  // 0: intact
  uint64_t first_offset = 0;   // of the first changed byte from the range start
  uint64_t last_offset = 0;    // of the last changed byte
};

Damage find_damage(const void* begin, size_t size, uint8_t pattern);

// Whether every byte of the range holds `pattern`: the common case, checked
// 16 bytes at a time without branching per word (the range is usually
// cold, so this mostly waits on memory); find_damage() then says what
// changed.
bool range_holds_pattern(const void* begin, size_t size, uint8_t pattern);

// The same; the usual 16-byte redzone, checked on every free and every
// block leaving quarantine, is two loads compared inline instead of a call.
NANTRACK_ALWAYS_INLINE bool holds_pattern(const void* begin, size_t size, uint8_t pattern) {
  if (size == 16) {
    uint64_t word = 0x0101010101010101ull * pattern;
    uint64_t words[2];
    __builtin_memcpy(words, begin, 16);
    return ((words[0] ^ word) | (words[1] ^ word)) == 0;
  }
  return range_holds_pattern(begin, size, pattern);
}

// Writes the pattern over the range; the usual 16-byte redzone is a single
// store instead of a call into libc's memset.
NANTRACK_ALWAYS_INLINE void fill_pattern(void* begin, size_t size, uint8_t pattern) {
  if (size == 16) {
    uint64_t word = 0x0101010101010101ull * pattern;
    uint64_t words[2] = {word, word};
    __builtin_memcpy(begin, words, 16);
  } else {
    __builtin_memset(begin, pattern, size);
  }
}

class RedzoneLayout {
 public:
  constexpr RedzoneLayout() = default;
  explicit constexpr RedzoneLayout(size_t redzone) : redzone_(redzone) {
    for (size_t log2 = 0; log2 < kAlignments; ++log2) {
      size_t alignment = size_t{1} << log2;
      fronts_[log2] = (redzone + alignment - 1) & ~(alignment - 1);
    }
  }

  // log2 of a power-of-two alignment (16 at least, the malloc guarantee);
  // alignments above 2^63 are refused before they get here.
  static constexpr uint8_t alignment_log2(size_t alignment) {
    return alignment <= 16 ? 4 : static_cast<uint8_t>(std::bit_width(alignment - 1));
  }
  // Looked up rather than rounded: every malloc and free needs it, several
  // times (churn: 40 instructions a pair when computed).
  size_t front(uint8_t alignment_log2) const { return fronts_[alignment_log2 & (kAlignments - 1)]; }
  size_t back() const { return redzone_; }
  bool enabled() const { return redzone_ != 0; }

 private:
  static constexpr size_t kAlignments = 64;
  size_t redzone_ = 0;
  size_t fronts_[kAlignments] = {};  // by alignment_log2: the redzone rounded up to the alignment
};

}  // namespace nantrack
