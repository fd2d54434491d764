// The built-in suppressions (report/default_suppressions.supp) against a
// program that uses every runtime feature known to keep memory until exit
// (tests/programs/runtime_buffers.cpp): with them the CI gate passes; without
// them, exactly the loader's blocks that the scan cannot see as reachable are
// leaked. When this list changes, so must the file: an entry the scan makes
// unnecessary goes, a runtime buffer that stops being reachable is a scan
// regression until shown otherwise.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/e2e/traced_run.h"

namespace nantrack::testing {
namespace {

// C.UTF-8 is the one UTF-8 locale a fresh Debian 12 always has; LANGUAGE
// would make gettext look for catalogs of other languages.
const std::vector<std::string> kEnvironment = {"LC_ALL=C.UTF-8", "LANGUAGE="};

struct ReportedRun {
  RunResult result;
  nlohmann::json process;
};

ReportedRun run_runtime_buffers(std::vector<std::string> options) {
  TempDir dir;
  std::vector<std::string> arguments = {"run", "--error-exitcode", "23", "--json", dir / "r.json"};
  arguments.insert(arguments.end(), options.begin(), options.end());
  arguments.insert(arguments.end(), {"--", program("runtime_buffers")});
  ReportedRun run{.result = nantrack(arguments, kEnvironment)};
  nlohmann::json json = nlohmann::json::parse(read_file(dir / "r.json"));
  EXPECT_EQ(json["processes"].size(), 1u);
  run.process = json["processes"][0];
  // It went all the way: iostreams at the end, after threads and the plugin.
  EXPECT_NE(run.result.out.find("runtime_buffers: wide\n"), std::string::npos) << run.result.err;
  return run;
}

// "kind function": the leak's kind and its innermost frame below the
// loader's malloc and calloc (names from libc6-dbg).
std::string describe(const nlohmann::json& leak) {
  std::string function = "?";
  for (const auto& frame : leak["stack"]) {
    function = frame.value("function", "?");
    if (function != "malloc" && function != "calloc") break;
  }
  return leak["kind"].get<std::string>() + " " + function;
}

TEST(DefaultSuppressions, TheRuntimesOwnMemoryPassesTheGate) {
  ReportedRun run = run_runtime_buffers({});
  EXPECT_EQ(run.result.exit_code, 0) << run.result.err;  // 23 if the gate tripped
  const auto& summary = run.process["summary"];
  EXPECT_EQ(summary["definite_bytes"], 0) << run.result.err;
  EXPECT_EQ(summary["possible_bytes"], 0);
  EXPECT_EQ(summary["indirect_bytes"], 0);
  EXPECT_GT(summary["reachable_bytes"], 10000);  // setlocale's alone: ~12 KB
  EXPECT_GT(summary["suppressed_bytes"], 0);
  EXPECT_EQ(run.process["leaks"].size(), 0u);  // reachable ones are not listed by default
}

// The loader's blocks are roots and each thread's TLS vector is scanned:
// nothing is left for the built-in list to hide.
TEST(DefaultSuppressions, NothingLeaksWithoutThem) {
  ReportedRun run = run_runtime_buffers({"--no-default-suppressions", "--show-reachable"});
  EXPECT_EQ(run.result.exit_code, 0) << run.result.err;
  size_t reachable_groups = 0;
  for (const auto& leak : run.process["leaks"]) {
    EXPECT_EQ(leak["kind"], "reachable") << leak;
    ++reachable_groups;
  }
  // stdio, locale, gettext, NSS, time zone, iconv, C++ locale, the loader's
  // link maps and TLS blocks: all still there.
  EXPECT_GT(reachable_groups, 50u);
}

}  // namespace
}  // namespace nantrack::testing
