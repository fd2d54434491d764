// The subcommands of `nantrack`. Each lives in its own file and adds itself to
// the top-level parser with an add_*_command function; main() lists them all
// and runs the one the user chose.
#pragma once

#include <functional>
#include <stdexcept>

namespace CLI {
class App;
}

namespace nantrack {

struct Command {
  CLI::App* parser;          // owned by the top-level App
  std::function<int()> run;  // called after a successful parse; returns the exit status
};

// A bad option value, or an input that makes the command pointless to start
// (an unreadable suppressions file, an unwritable report path): exit 2.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

Command add_dump_command(CLI::App& app);
Command add_run_command(CLI::App& app);
Command add_report_command(CLI::App& app);

}  // namespace nantrack
