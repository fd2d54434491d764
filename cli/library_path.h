// Where libnantrack.so is: NANTRACK_LIBRARY, or ../lib/libnantrack.so next
// to this executable (the layout of build/ and of `make install`).
#pragma once

#include <string>

namespace nantrack {

// Throws std::runtime_error naming both places looked at when it is missing.
std::string find_library();

}  // namespace nantrack
