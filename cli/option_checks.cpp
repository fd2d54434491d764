#include "cli/option_checks.h"

#include <string>

#include "tracker/options.h"

namespace nantrack {
namespace {

// parse_options reports through a plain function: the problems of one
// check, collected here (the CLI parses on one thread).
std::string g_problems;
void collect_problem(const char* message) {
  if (!g_problems.empty()) g_problems += "; ";
  g_problems += message;
}

std::string problems_with(const std::string& text) {
  g_problems.clear();
  Options ignored;
  parse_options(text.c_str(), ignored, collect_problem, OptionsSource::RunCommand);
  return g_problems;
}

}  // namespace

CLI::Validator a_path(std::string what) {
  return CLI::Validator(
      [what](const std::string& value) -> std::string {
        if (value.empty()) return "expected " + what + ", got nothing";
        if (value.size() < 2 || value[0] != '-') return {};
        return "expected a value, got '" + value + "' (a name that starts with '-' is written ./" + value + ")";
      },
      "", "path");
}

CLI::Validator a_count() {
  return CLI::Validator(
      [](const std::string& value) -> std::string {
        if (!value.empty() && value.size() <= 19 && value.find_first_not_of("0123456789") == std::string::npos)
          return {};
        return "expected a whole number such as 100, got '" + value + "'";
      },
      "", "count");
}

CLI::Validator valid_library_options() {
  return CLI::Validator([](const std::string& value) { return problems_with(value); }, "", "library options");
}

CLI::Validator quarantine_size() {
  return CLI::Validator(
      [](const std::string& value) -> std::string {
        if (value.find(':') == std::string::npos && problems_with("quarantine_bytes=" + value).empty()) return {};
        return "expected a size such as 65536, 64k or 64m (0 turns the quarantine off), got '" + value + "'";
      },
      "", "size");
}

}  // namespace nantrack
