// The HTML report: one self-contained page (no network, no external file) with
// summary tiles, a section per process, a sortable leak table with expandable
// stacks, the errors with their stacks, an icicle graph of leaked bytes by
// call path, and the suppressions used.
//
// The report's data is embedded as JSON (report/html_data.h) and drawn by the
// page's own script (report/html/*.js) with DOM text nodes only, so nothing
// from a trace (function names, paths, argv) is ever parsed as markup.
#pragma once

#include <string>
#include <string_view>

#include "report/report_model.h"

namespace nantrack {

std::string render_html_report(const Report& report);

// `text` with & < > " ' replaced by character references.
std::string escape_html(std::string_view text);

}  // namespace nantrack
