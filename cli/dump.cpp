// `nantrack dump TRACE...`: prints what traces hold, for whoever works on the
// tracker or wonders what a report was built from.
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/say.h"
#include "cli/trace_dump.h"
#include "report/trace_reader.h"

namespace nantrack {
namespace {

struct DumpOptions {
  std::vector<std::string> traces;
  size_t limit = 20;
};

// One unreadable trace does not hide the others; it only makes the exit status 1.
int run_dump(const DumpOptions& options) {
  int status = 0;
  const char* separator = "";
  for (const std::string& path : options.traces) {
    try {
      const std::string dump = format_trace_dump(read_trace(path), options.limit);
      fmt::print("{}{}", separator, dump);
      separator = "\n";
    } catch (const TraceError& error) {
      std::fflush(stdout);  // keep stdout and stderr in order on a terminal
      say("nantrack: {}\n", error.what());
      status = 1;
    }
  }
  return status;
}

}  // namespace

Command add_dump_command(CLI::App& app) {
  auto options = std::make_shared<DumpOptions>();
  CLI::App* dump = app.add_subcommand("dump", "Print everything a trace holds, unsymbolized");
  dump->add_option("TRACE", options->traces, "Trace files (nantrack.PID.trace)")->required();
  dump->add_option("--limit", options->limit, "Show at most N live-block groups and N errors; 0 shows all")
      ->type_name("N")
      ->capture_default_str();
  return {dump, [options] { return run_dump(*options); }};
}

}  // namespace nantrack
