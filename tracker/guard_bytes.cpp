#include "tracker/guard_bytes.h"

#include <cstring>

#include <emmintrin.h>

namespace nantrack {

Damage find_damage(const void* begin, size_t size, uint8_t pattern) {
  const uint8_t* bytes = static_cast<const uint8_t*>(begin);
  Damage damage;
  // Intact blocks are the common case: compare a word at a time until the
  // first difference.
  uint64_t word;
  std::memset(&word, pattern, sizeof(word));
  size_t i = 0;
  for (; i + sizeof(word) <= size; i += sizeof(word)) {
    uint64_t here;
    std::memcpy(&here, bytes + i, sizeof(here));
    if (here != word) break;
  }
  for (; i < size; ++i) {
    if (bytes[i] == pattern) continue;
    if (damage.bytes_changed == 0) damage.first_offset = i;
    damage.last_offset = i;
    ++damage.bytes_changed;
  }
  return damage;
}

bool range_holds_pattern(const void* begin, size_t size, uint8_t pattern) {
  const auto* bytes = static_cast<const uint8_t*>(begin);
  if (size < 16) {
    uint8_t differ = 0;
    for (size_t i = 0; i < size; ++i) differ |= bytes[i] ^ pattern;
    return differ == 0;
  }
  // OR together what differs from the pattern; the last 16 bytes are
  // loaded at size - 16 and may overlap the loop's, which is harmless.
  const __m128i expected = _mm_set1_epi8(static_cast<char>(pattern));
  __m128i differ = _mm_setzero_si128();
  size_t i = 0;
  for (; i + 64 <= size; i += 64) {
    __m128i a = _mm_xor_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(bytes + i)), expected);
    __m128i b = _mm_xor_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(bytes + i + 16)), expected);
    __m128i c = _mm_xor_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(bytes + i + 32)), expected);
    __m128i d = _mm_xor_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(bytes + i + 48)), expected);
    differ = _mm_or_si128(differ, _mm_or_si128(_mm_or_si128(a, b), _mm_or_si128(c, d)));
    // A block of megabytes that differs early need not be read to the end.
    if ((i & 4095) == 4032 && _mm_movemask_epi8(_mm_cmpeq_epi8(differ, _mm_setzero_si128())) != 0xffff) return false;
  }
  for (; i + 16 <= size; i += 16)
    differ = _mm_or_si128(differ, _mm_xor_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(bytes + i)), expected));
  if (i < size)
    differ = _mm_or_si128(differ, _mm_xor_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(bytes + size - 16)), expected));
  return _mm_movemask_epi8(_mm_cmpeq_epi8(differ, _mm_setzero_si128())) == 0xffff;
}

}  // namespace nantrack
