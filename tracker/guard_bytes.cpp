#include "tracker/guard_bytes.h"

#include <cstring>

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

}  // namespace nantrack
