// `nantrack report [options] TRACE...`: renders kept traces again, in any
// format. A directory stands for the traces in it.
#include <filesystem>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/option_checks.h"
#include "cli/report_request.h"

namespace nantrack {
namespace {
namespace fs = std::filesystem;

struct ReportCommandOptions {
  std::vector<std::string> traces;
  std::string format = "text";
  std::string output;  // empty: stdout
  ReportRequest report;
};

std::vector<std::string> expand_directories(const std::vector<std::string>& paths) {
  std::vector<std::string> traces;
  for (const std::string& path : paths) {
    std::error_code error;
    if (!fs::is_directory(path, error)) {
      traces.push_back(path);
      continue;
    }
    std::vector<std::string> found;
    for (const auto& entry : fs::directory_iterator(path, error))
      if (entry.path().extension() == ".trace") found.push_back(entry.path().string());
    if (found.empty()) throw std::runtime_error(fmt::format("no .trace files in directory '{}'", path));
    std::sort(found.begin(), found.end());
    traces.insert(traces.end(), found.begin(), found.end());
  }
  return traces;
}

int run_report_command(ReportCommandOptions& options) {
  // --format F -o FILE is the same as --F FILE; text goes to -o or stdout.
  std::string text_file;
  if (options.format == "text") {
    text_file = options.output;
  } else {
    std::string& target = options.format == "json" ? options.report.json_file
                          : options.format == "html" ? options.report.html_file
                                                     : options.report.sarif_file;
    target = options.output.empty() ? "/dev/stdout" : options.output;
  }
  validate(options.report, text_file);
  std::vector<std::string> traces = expand_directories(options.traces);
  ReportOutcome outcome;
  if (options.format != "text") {
    std::ostringstream discarded;  // only the requested format is written
    outcome = produce_report(traces, options.report, discarded);
  } else if (text_file.empty()) {
    outcome = produce_report(traces, options.report, std::cout);
  } else {
    write_report_file(text_file, "text",
                      [&](std::ostream& out) { outcome = produce_report(traces, options.report, out); });
  }
  if (outcome.gate_exit_status) return *outcome.gate_exit_status;
  return outcome.traces_unreadable || outcome.reports_unwritten ? 1 : 0;
}

}  // namespace

Command add_report_command(CLI::App& app) {
  auto options = std::make_shared<ReportCommandOptions>();
  CLI::App* report = app.add_subcommand("report", "Render kept traces as text, JSON, HTML or SARIF");
  report->add_option("TRACE", options->traces, "Trace files, or directories holding them")->required();
  report->add_option("--format,-f", options->format, "Output format")
      ->check(CLI::IsMember({"text", "json", "html", "sarif"}));
  report->add_option("-o,--output", options->output, "Write the report to FILE (default: stdout)")
      ->check(a_path());
  add_report_options(*report, options->report);
  report->footer(
      "Exit status: 0; 1 if a trace could not be read or a report written; --error-exitcode's value if the gate "
      "trips.");
  return {report, [options] { return run_report_command(*options); }};
}

}  // namespace nantrack
