// `nantrack`: the command line. Parses, then hands over to the chosen command.
#include <algorithm>
#include <exception>
#include <new>
#include <string>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/say.h"
#include "version.h"

int main(int argc, char** argv) {
  CLI::App app{"Finds heap leaks and heap misuse in unmodified Linux programs.", "nantrack"};
  app.set_version_flag("--version", fmt::format("nantrack {}", nantrack::kVersion));
  app.require_subcommand(1);
  // Usage errors, like every other message of ours, start with "nantrack:".
  app.failure_message([](const CLI::App*, const CLI::Error& error) {
    return fmt::format("nantrack: {}\nRun with --help for more information.\n", error.what());
  });
  const std::vector<nantrack::Command> commands = {
      nantrack::add_run_command(app),
      nantrack::add_report_command(app),
      nantrack::add_dump_command(app),
  };

  // CLI11 takes a mistyped command for a missing one ("A subcommand is
  // required"); name it, and the commands there are, instead.
  if (argc > 1 && argv[1][0] != '-' &&
      std::ranges::none_of(commands, [&](const nantrack::Command& c) { return c.parser->check_name(argv[1]); })) {
    std::string names;
    for (const nantrack::Command& command : commands) names += (names.empty() ? "" : ", ") + command.parser->get_name();
    nantrack::say("nantrack: unknown command '{}' (commands: {})\n", argv[1], names);
    // A path there is likely the program, given without `run`.
    if (std::string_view(argv[1]).find('/') != std::string_view::npos)
      nantrack::say("To trace it: nantrack run -- {}\n", nantrack::shell_word(argv[1]));
    nantrack::say("Run with --help for more information.\n");
    return 2;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    // CLI11 prints help, the version or the usage error; a usage error exits
    // with 2 like other Unix tools, whatever CLI11's own code for it.
    return app.exit(error) == 0 ? 0 : 2;
  }

  // require_subcommand(1) guarantees that exactly one was chosen.
  const auto chosen = std::ranges::find_if(
      commands, [](const nantrack::Command& command) { return command.parser->parsed(); });
  try {
    return chosen->run();
  } catch (const nantrack::UsageError& error) {
    nantrack::say("nantrack: {}\n", error.what());
    return 2;
  } catch (const std::bad_alloc&) {
    nantrack::say_out_of_memory();
    return 1;
  } catch (const std::exception& error) {
    nantrack::say("nantrack: {}\n", error.what());
    return 1;
  }
}
