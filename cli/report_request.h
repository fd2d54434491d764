// What `nantrack run` and `nantrack report` both do once traces exist:
// read them, build the report, write the text report and any extra formats,
// and decide the CI gate. The options for it are shared too.
#pragma once

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "report/gate.h"

namespace CLI {
class App;
}

namespace nantrack {

struct ReportRequest {
  std::vector<std::string> suppression_files;
  bool gen_suppressions = false;
  bool show_reachable = false;  // list still-reachable blocks among the leaks
  size_t max_leaks = 100;  // leak sites per process in the text report; 0: all
  std::string html_file, json_file, sarif_file;  // empty: not wanted
  // The gate: active when either is set.
  std::optional<int> error_exitcode;
  std::optional<uint64_t> max_leaked_bytes;
  std::optional<std::string> fail_on;  // unset: FailOn::defaults()

  // The exit status a tripped gate gives, or none when no gate was asked for.
  std::optional<int> gate_exit_status() const {
    if (!error_exitcode && !max_leaked_bytes) return std::nullopt;
    return error_exitcode.value_or(1);
  }
};

// Adds --suppressions, --gen-suppressions, --show-reachable, --max-leaks,
// --html, --json, --sarif, --error-exitcode, --fail-on, --max-leaked-bytes.
void add_report_options(CLI::App& command, ReportRequest& request);

// Checks what can be checked before any work: --fail-on's words, that the
// suppression files parse and the output files can be written, with
// `text_file` (`nantrack report -o`; empty: stdout). Throws UsageError
// (cli/commands.h) with the message for the user.
void validate(const ReportRequest& request, const std::string& text_file = "");

struct ReportOutcome {
  size_t traces_read = 0;
  size_t traces_unreadable = 0;
  size_t reports_unwritten = 0;  // extra formats that could not be written
  std::optional<int> gate_exit_status;  // set when the gate tripped
};

// Writes a report file: "-" (or /dev/stdout) is standard output; a regular
// file, new or old, is replaced whole through a temporary file and a rename
// (through a symbolic link, the file it names), so an interrupted run never
// leaves half a report; a pipe, terminal or other device is written in
// place. Streamed: the JSON of a million leaked blocks is 150 MB. Throws
// std::runtime_error "cannot write <what> report '<path>': <why>".
void write_report_file(const std::string& path, std::string_view what,
                       const std::function<void(std::ostream&)>& write);

// Reads the traces (an unreadable one is reported and skipped), prints the
// text report to `text`, writes the extra formats (one that cannot be
// written is reported and skipped), decides the gate. Throws when no report
// can be made at all (std::bad_alloc: out of memory).
ReportOutcome produce_report(const std::vector<std::string>& trace_paths, const ReportRequest& request,
                             std::ostream& text);

}  // namespace nantrack
