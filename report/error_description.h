// One-line descriptions of heap errors and the captions of their stacks, in
// the words of DESIGN.md's text report, for the formatters that show an error
// as a sentence (HTML, SARIF).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "report/report_model.h"

namespace nantrack {

// "double free of 0x5581a2c0 (24 bytes) in thread 1"
std::string describe_error(const ErrorEvent& event);

// Captions of an error's stacks, in the order a reader wants them: the call
// that went wrong, the earlier free of the block, its allocation.
std::string_view bad_call_caption(ErrorKind kind);  // "double free here"
std::string_view free_stack_caption(ErrorKind kind);  // "first freed here"
inline constexpr std::string_view kAllocStackCaption = "allocated here";

struct CaptionedStack {
  std::string_view caption;
  const SourceStack* stack;  // points into the ErrorFinding
};

// The error's non-empty stacks with their captions, in that reading order.
std::vector<CaptionedStack> captioned_stacks(const ErrorFinding& error);

}  // namespace nantrack
