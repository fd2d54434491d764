// Loads a trace file (layout: tracker/trace_format.h) into a Trace, with the
// late records already applied. Every way a file can be unreadable -- missing,
// truncated, foreign, corrupt, from another format version -- ends in one
// TraceError whose message a user can act on; no input crashes or hangs.
#pragma once

#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>

#include "report/trace.h"

namespace nantrack {

// what() is one line: "cannot read trace 'PATH': REASON", e.g.
// "cannot read trace 'nantrack.42.trace': not a nantrack trace (bad magic)".
class TraceError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

Trace read_trace(const std::string& path);

// The same for a trace already in memory; `path` only names it in messages
// and in Trace::path.
Trace parse_trace(std::span<const uint8_t> bytes, const std::string& path);

}  // namespace nantrack
