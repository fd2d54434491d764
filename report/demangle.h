// Readable names for the linkage names in symbol tables and DWARF: C++
// (the Itanium ABI, as __cxa_demangle gives them) and Rust (its legacy and
// v0 manglings).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace nantrack {

// "_ZN5Cache4dropEv" -> "Cache::drop()"; "_RNvCs1234_7mycrate4main" and
// "_ZN7mycrate4main17h0123456789abcdefE" -> "mycrate::main" (the hash a
// legacy Rust name ends with is left out, as Rust's own backtraces do).
// Nothing for a name that is not mangled (C, main) or not understood.
std::optional<std::string> demangle(std::string_view linkage_name);

}  // namespace nantrack
