// Which frame of a stack belongs to the program being debugged rather than to
// the system: the frame a report points a user (or GitHub code scanning) at.
#pragma once

#include "report/report_model.h"

namespace nantrack {

// A frame without a source file, or whose file lies under /usr/ (system
// headers such as <bits/stl_vector.h>, glibc and libstdc++ sources).
bool is_system_frame(const SourceFrame& frame);

// The innermost frame that is not a system frame; failing that the innermost
// frame with a source file; nullptr when no frame has one.
const SourceFrame* innermost_project_frame(const SourceStack& stack);

}  // namespace nantrack
