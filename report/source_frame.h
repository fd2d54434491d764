// One frame of a symbolized stack, as the formatters print it. Plain data so
// that formatters need neither libdw nor the symbolizer.
#pragma once

#include <cstdint>
#include <string>

namespace nantrack {

struct SourceFrame {
  uint64_t address = 0;        // the pc, as recorded in the trace
  std::string function;        // demangled; empty if unknown
  std::string file;            // source path as recorded in DWARF; empty if unknown
  int line = 0;                // 0 if unknown
  std::string module;          // path of the module holding the pc; empty if none does
  uint64_t module_offset = 0;  // pc - load bias of the module (the pc itself if no module)
  bool inlined = false;        // this function was inlined into the next (outer) frame

  bool operator==(const SourceFrame&) const = default;
};

}  // namespace nantrack
