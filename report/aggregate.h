// From traces to a Report (report/report_model.h): each trace symbolized with
// its own module map, live blocks grouped by allocation stack, suppressions
// applied, summaries counted.
//
//   Suppressions suppressions;
//   suppressions.add_file("ci.supp");
//   Report report = build_report(traces, suppressions);
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "report/report_model.h"
#include "report/suppressions.h"
#include "report/trace.h"

namespace nantrack {

struct ReportOptions {
  // Where the symbolizer looks for separate debug files, in libdw's syntax;
  // empty: libdw's default (report/symbolizer.h).
  std::string debuginfo_path;
  // List still-reachable blocks among the leaks (--show-reachable). They
  // are counted in the summary either way.
  bool show_reachable = false;
  // Where symbolized frames are kept between reports (report/symbol_cache.h);
  // none: every report reads all the DWARF it needs.
  std::optional<std::filesystem::path> symbol_cache;
  // How many of each process's listed leak groups, biggest first, get
  // their stacks symbolized; the others keep their stack_id and an empty
  // stack. For a report that shows only so many (the text report's
  // --max-leaks, with no other format): a million leaked blocks from 16k
  // stacks took 106 MB of symbolized frames that only a JSON, HTML or
  // SARIF report would show.
  size_t symbolized_leak_groups = SIZE_MAX;
};

// One ProcessReport per trace, by pid. Every distinct pc is symbolized
// once. Blocks live at exit are grouped by (stack, leak kind) into
// LeakGroups, biggest first; a group or an error that a suppression matches
// is left out of the findings and counted in Summary::suppressed_bytes and
// in Report::suppressions instead. Still-reachable groups that are not
// listed (no show_reachable) are only counted: their stacks are symbolized
// only when some rule may hide reachable blocks.
Report build_report(const std::vector<Trace>& traces, const Suppressions& suppressions,
                    const ReportOptions& options = {});

}  // namespace nantrack
