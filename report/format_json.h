// The JSON report: DESIGN.md's schema, field for field (tests and CI gates
// read it). Every error kind is present in "errors", 0 when none;
// "possible_bytes" completes the reachability split. Frames are innermost
// first; unknown function, file and module are "", an unknown line 0.
//
// write_json_report() streams the document: 10,000 leak sites with deep
// stacks make a hundred megabytes of JSON, which it writes in a fraction of
// the time (and memory) a JSON tree takes. Objects are indented by two,
// frames one per line, keys in DESIGN.md's order.
#pragma once

#include <ostream>

#include <nlohmann/json.hpp>

#include "report/report_model.h"

namespace nantrack {

inline constexpr int kJsonFormatVersion = 1;

void write_json_report(const Report& report, std::ostream& out);

// The same document as a value, for code that inspects it.
nlohmann::json report_to_json(const Report& report);

}  // namespace nantrack
