// The items of an LD_PRELOAD value, and which of them is ours: the one
// rule that following children (exec_hooks.cpp) and not following them
// (lifecycle.cpp) both go by.
#pragma once

#include <cstddef>
#include <cstring>

namespace nantrack {

// Calls visit(item, length) for each item of `value`, as the dynamic
// loader splits it (at colons and spaces), until visit returns false.
template <typename Visit>
void for_each_preload_item(const char* value, Visit&& visit) {
  while (value && *value) {
    const size_t length = std::strcspn(value, ": ");
    if (length && !visit(value, length)) return;
    value += length;
    while (*value == ':' || *value == ' ') ++value;
  }
}

// Whether an item names a build of our library.
inline bool is_our_library(const char* item, size_t length) {
  return memmem(item, length, "libnantrack", 11) != nullptr;
}

}  // namespace nantrack
