// `nantrack dump`'s rendering of one trace: everything the file holds, with
// pcs as module+offset and nothing symbolized, so it works on any trace and
// shows exactly what the tracker wrote.
#pragma once

#include <cstddef>
#include <string>

#include "report/trace.h"

namespace nantrack {

// `limit` caps the live-block groups and the errors shown; 0 shows all.
std::string format_trace_dump(const Trace& trace, size_t limit);

}  // namespace nantrack
