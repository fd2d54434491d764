// The JSON report: DESIGN.md's schema, field for field (tests and CI gates
// read it). Every error kind is present in "errors", 0 when none;
// "possible_bytes" completes the reachability split. Frames are innermost
// first; unknown function, file and module are "", an unknown line 0.
#pragma once

#include <nlohmann/json.hpp>

#include "report/report_model.h"

namespace nantrack {

inline constexpr int kJsonFormatVersion = 1;

nlohmann::json report_to_json(const Report& report);

}  // namespace nantrack
