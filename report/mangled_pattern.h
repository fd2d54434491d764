// valgrind's suppression files name functions by their mangled names (its
// --gen-suppressions writes them so); the symbolizer gives demangled ones.
// This turns a fun: pattern into one that matches demangled names.
#pragma once

#include <string>
#include <string_view>

namespace nantrack {

// "_ZN5Cache4dropEv" -> "Cache::drop()" (Rust names too, as demangle()
// gives them). A pattern with wildcards cannot be
// demangled as a whole: its leading plain names are ("_ZN5boost6detail*" ->
// "boost::detail*", "_Znw*" -> "operator new*"), which matches at least what
// the original meant. Anything that is not a mangled name, or whose start is
// not understood, comes back unchanged.
std::string demangled_pattern(std::string_view pattern);

}  // namespace nantrack
