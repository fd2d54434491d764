// The subcommands of `nantrack`. Each lives in its own file and adds itself to
// the top-level parser with an add_*_command function; main() lists them all
// and runs the one the user chose.
#pragma once

#include <functional>

namespace CLI {
class App;
}

namespace nantrack {

struct Command {
  CLI::App* parser;          // owned by the top-level App
  std::function<int()> run;  // called after a successful parse; returns the exit status
};

Command add_dump_command(CLI::App& app);

}  // namespace nantrack
