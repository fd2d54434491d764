#include "report/project_frame.h"

#include <algorithm>

namespace nantrack {

bool is_system_frame(const SourceFrame& frame) { return frame.file.empty() || frame.file.starts_with("/usr/"); }

const SourceFrame* innermost_project_frame(const SourceStack& stack) {
  auto found = std::ranges::find_if(stack, [](const SourceFrame& frame) { return !is_system_frame(frame); });
  if (found == stack.end())
    found = std::ranges::find_if(stack, [](const SourceFrame& frame) { return !frame.file.empty(); });
  return found == stack.end() ? nullptr : &*found;
}

}  // namespace nantrack
