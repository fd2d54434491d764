// The data the HTML report's script renders (report/html/*.js), as JSON.
// Frames and module paths are interned into tables and referred to by index,
// so 10,000 leak sites sharing their outer frames stay a few megabytes:
//
//   {"tool": "nantrack", "version": "0.1.0",
//    "modules": ["/usr/lib/x86_64-linux-gnu/libc.so.6", ...],
//    "frames": [{"fn": "main", "file": "src/main.cpp", "line": 20, "mod": 0,
//                "off": "0x1b02", "addr": "0x55819b02", "inl": true, "sys": true}, ...],
//    "processes": [{"pid": 4242, "ppid": 1, "exe": "/app", "argv": ["./app"],
//                   "exit_status": 0, "signal": 0, "crashed": false, "forked_child": false,
//                   "duration_ms": 12.5, "trace": "nantrack.4242.trace",
//                   "summary": {DESIGN.md's summary object},
//                   "leaks": [{"kind": "definite", "bytes": 3072, "blocks": 3,
//                              "alloc": ["malloc"], "stack": [frame index, ...],
//                              "top": position in stack of the innermost project frame}],
//                   "errors": [{"kind": "double_free", "message": "double free of ...",
//                               "stacks": [{"caption": "double free here", "stack": [...]}]}],
//                   "notes": ["..."],
//                   "flame": {"name": "all leaks", "bytes": 3072, "blocks": 3, "children": [...]}}],
//                             (report/leak_flame_tree.h; "merged": true marks "other")
//    "suppressions": [{"name": "leak:libfoo", "source": "ci.supp", "bytes": 0, "blocks": 0, "errors": 0}]}
//
// Frame fields that are empty, zero or false are left out. "sys" marks a
// system frame (report/project_frame.h), which the page dims.
#pragma once

#include <nlohmann/json.hpp>

#include "report/report_model.h"

namespace nantrack {

nlohmann::json report_to_html_data(const Report& report);

}  // namespace nantrack
