// The SARIF 2.1.0 report, for GitHub code scanning and other SARIF viewers:
// one run; one result per leak group and per heap error, located at the
// innermost project frame (report/project_frame.h) of its stack, with every
// stack in full in result.stacks.
//
// Source files under the source root become URIs relative to "%SRCROOT%"
// (which originalUriBaseIds maps to the root); other files absolute file://
// URIs. Rule ids are the JSON report's names: "leak", "double_free",
// "invalid_free", "mismatched_free", "heap_overflow", "write_after_free".
#pragma once

#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "report/report_model.h"

namespace nantrack {

struct SarifOptions {
  std::filesystem::path source_root;  // empty: the current working directory
};

nlohmann::json report_to_sarif(const Report& report, const SarifOptions& options = {});

// The SARIF log as text, ready to write to a file. Text from traces need not
// be UTF-8: invalid bytes become U+FFFD here (nlohmann's dump() would throw).
std::string render_sarif_report(const Report& report, const SarifOptions& options = {});

}  // namespace nantrack
