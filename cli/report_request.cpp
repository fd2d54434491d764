#include "cli/report_request.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <stdexcept>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/option_checks.h"
#include "cli/removed_on_interrupt.h"
#include "cli/say.h"
#include "report/aggregate.h"
#include "report/format_html.h"
#include "report/format_json.h"
#include "report/format_sarif.h"
#include "report/format_text.h"
#include "report/symbol_cache.h"
#include "report/suppressions.h"
#include "report/trace_reader.h"

namespace nantrack {
namespace {
namespace fs = std::filesystem;

bool is_stdout(const std::string& path) { return path == "-" || path == "/dev/stdout"; }

// Where a report named `path` goes. A regular file (or a new one) is
// replaced whole through a temporary file and a rename, so an interrupted
// run never leaves half a report where a whole one was; through a symbolic
// link, the file it names is (the link stays a link). Anything else that
// exists (a pipe, a terminal, /dev/stderr, a shell's >(process
// substitution)) is written as it is: renaming over it would replace the
// pipe, or /dev/stderr itself, with a file.
struct ReportTarget {
  fs::path path;
  bool in_place = false;
};

ReportTarget report_target(const std::string& path) {
  std::error_code error;
  const fs::file_status status = fs::status(path, error);  // follows links, /dev/fd's included
  if (fs::exists(status) && !fs::is_regular_file(status) && !fs::is_directory(status)) return {path, true};
  if (fs::is_symlink(fs::symlink_status(path, error))) {
    fs::path resolved = fs::weakly_canonical(fs::absolute(path), error);
    if (!error) return {resolved, false};
  }
  return {fs::absolute(path), false};
}

std::runtime_error cannot_write(std::string_view what, const std::string& path, std::string_view why) {
  return std::runtime_error(fmt::format("cannot write {} report '{}': {}", what, path, why));
}

// A report file can be written if its directory exists and is writable
// (and the file, if it exists, is). Checked before the program runs, so a
// typo does not cost a whole run.
void check_writable(const std::string& path, std::string_view what) {
  if (path.empty() || is_stdout(path)) return;
  const ReportTarget target = report_target(path);
  if (target.in_place) {
    if (access(target.path.c_str(), W_OK) != 0) throw cannot_write(what, path, std::strerror(errno));
    return;
  }
  std::error_code error;
  if (fs::is_directory(target.path, error)) throw cannot_write(what, path, "it is a directory");
  fs::path directory = target.path.parent_path();
  if (!fs::is_directory(directory, error))
    throw cannot_write(what, path, fmt::format("no directory '{}'", directory.string()));
  if (access(directory.c_str(), W_OK) != 0 ||
      (fs::exists(target.path, error) && access(target.path.c_str(), W_OK) != 0))
    throw cannot_write(what, path, std::strerror(EACCES));
}

}  // namespace

void write_report_file(const std::string& path, std::string_view what,
                       const std::function<void(std::ostream&)>& write) {
  if (is_stdout(path)) {
    write(std::cout);
    std::cout.flush();
    return;
  }
  // errno is read right after the call that failed: the report's own work
  // in between would leave another value there ("Invalid argument").
  auto write_whole = [&](const fs::path& file_path) {
    std::ofstream file(file_path, std::ios::binary | std::ios::trunc);
    if (!file.is_open()) throw cannot_write(what, path, std::strerror(errno));
    write(file);
    if (!file.flush()) throw cannot_write(what, path, std::strerror(errno));
  };
  const ReportTarget target = report_target(path);
  if (target.in_place) return write_whole(target.path);
  const std::string temporary = target.path.string() + ".nantrack-tmp";
  // Stopped while it writes, nantrack leaves no half report beside the real one.
  const RemovedOnInterrupt removed_if_interrupted(temporary, RemovedOnInterrupt::Kind::File);
  std::error_code error;
  try {
    write_whole(temporary);
  } catch (...) {
    fs::remove(temporary, error);  // no half-written file left beside the report
    throw;
  }
  fs::rename(temporary, target.path, error);
  if (error) {
    fs::remove(temporary, error);
    throw cannot_write(what, path, error.message());
  }
}

namespace {

Suppressions load_suppressions(const ReportRequest& request) {
  Suppressions suppressions;
  for (const std::string& file : request.suppression_files) suppressions.add_file(file);
  return suppressions;
}

FailOn fail_on_of(const ReportRequest& request) {
  return request.fail_on ? FailOn::parse(*request.fail_on) : FailOn::defaults();
}

}  // namespace

void add_report_options(CLI::App& command, ReportRequest& request) {
  command.add_option("--suppressions", request.suppression_files,
                     "Suppressions FILE (LeakSanitizer lines like leak:PATTERN, or valgrind .supp blocks); repeatable")
      ->check(a_path())
      ->check(CLI::ExistingFile);
  command.add_flag("--gen-suppressions", request.gen_suppressions, "Print a ready suppression for each finding");
  command.add_flag("--show-reachable", request.show_reachable,
                   "Also list blocks still pointed to at exit (always counted in the summary)");
  command.add_option("--max-leaks", request.max_leaks,
                     "Leak sites shown per process in the text report, biggest first (0: all; default 100)")
      ->check(a_count());
  command.add_option("--html", request.html_file, "Also write an HTML report to FILE")
      ->check(a_path());
  command.add_option("--json", request.json_file, "Also write a JSON report to FILE")
      ->check(a_path());
  command.add_option("--sarif", request.sarif_file, "Also write a SARIF 2.1.0 report to FILE")
      ->check(a_path());
  command.add_option("--error-exitcode", request.error_exitcode,
                     "Exit with N if the report has findings --fail-on counts (the CI gate)")
      ->check(CLI::Range(0, 255));
  command.add_option("--fail-on", request.fail_on,
                     "What trips the gate: comma-separated leak kinds (definite, indirect, possible, reachable, leaks), "
                     "error kinds (double_free, ..., errors), all or none (default: definite,possible,errors)");
  command.add_option("--max-leaked-bytes", request.max_leaked_bytes,
                     "Let leaks pass the gate up to N bytes (errors still trip it)")
      ->check(a_count());
}

void validate(const ReportRequest& request, const std::string& text_file) {
  try {
    fail_on_of(request);
    load_suppressions(request);
    check_writable(text_file, "text");
    check_writable(request.html_file, "HTML");
    check_writable(request.json_file, "JSON");
    check_writable(request.sarif_file, "SARIF");
  } catch (const std::exception& error) {
    throw UsageError(error.what());
  }
}

ReportOutcome produce_report(const std::vector<std::string>& trace_paths, const ReportRequest& request,
                             std::ostream& text) {
  ReportOutcome outcome;
  std::vector<Trace> traces;
  for (const std::string& path : trace_paths) {
    try {
      traces.push_back(read_trace(path));
      ++outcome.traces_read;
    } catch (const TraceError& error) {
      say("nantrack: {}\n", error.what());
      ++outcome.traces_unreadable;
    }
  }
  TextOptions text_options;
  text_options.max_leak_groups = request.max_leaks ? request.max_leaks : SIZE_MAX;
  // The text report alone shows the stacks of its biggest leak sites only.
  const bool text_only =
      request.json_file.empty() && request.sarif_file.empty() && request.html_file.empty() && !request.gen_suppressions;
  Report report = build_report(traces, load_suppressions(request),
                               {.show_reachable = request.show_reachable,
                                .symbol_cache = SymbolCache::directory_from_environment(),
                                .symbolized_leak_groups = text_only ? text_options.max_leak_groups : SIZE_MAX});
  write_text_report(report, text, text_options);
  if (request.gen_suppressions) write_generated_suppressions(report, text);
  text.flush();
  // Each file was found writable before the program ran; one that is not
  // now (the program removed its directory, the disk filled) is said and
  // skipped: the others and the gate do not depend on it.
  auto write_extra = [&](const std::string& path, std::string_view what,
                         const std::function<void(std::ostream&)>& write) {
    if (path.empty()) return;
    try {
      write_report_file(path, what, write);
    } catch (const std::runtime_error& error) {
      say("nantrack: {}\n", error.what());
      ++outcome.reports_unwritten;
    }
  };
  write_extra(request.json_file, "JSON", [&](std::ostream& out) { write_json_report(report, out); });
  write_extra(request.sarif_file, "SARIF", [&](std::ostream& out) { out << render_sarif_report(report); });
  write_extra(request.html_file, "HTML", [&](std::ostream& out) { out << render_html_report(report); });

  if (const std::optional<int> gate_status = request.gate_exit_status()) {
    const int exit_status = *gate_status;
    GateDecision decision = decide_gate(report, fail_on_of(request), request.max_leaked_bytes, exit_status);
    // A trace we could not read may hide anything: the gate must not pass.
    if (outcome.traces_unreadable && !decision.tripped) {
      decision.tripped = true;
      decision.line = fmt::format("nantrack: CI gate failed: {} unreadable trace(s); exit status {}",
                                  outcome.traces_unreadable, exit_status);
    }
    text << decision.line << "\n";
    if (decision.tripped) outcome.gate_exit_status = exit_status;
  }
  return outcome;
}

}  // namespace nantrack
