// Small pieces of text the text report and the generated suppressions share:
// counts as people read them and one line per stack frame.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "report/source_frame.h"

namespace nantrack {

// 3072 -> "3,072".
std::string with_thousands(uint64_t number);

// "1 block", "3,072 bytes": the number with thousands separators, then the
// singular or the plural.
std::string counted(uint64_t number, std::string_view singular, std::string_view plural);

// "#2 0x55819a11 in load src/load.cpp:7 (app+0x1a11) [inlined]", leaving out
// what is unknown: "#3 0x7f0c2a627249 (libc.so.6+0x27249)". The module is
// shown by its file name.
std::string format_frame(size_t index, const SourceFrame& frame);

}  // namespace nantrack
