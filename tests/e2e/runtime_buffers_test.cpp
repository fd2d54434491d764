// What the runtimes keep until exit (tests/programs/runtime_buffers.cpp:
// stdio, locales, gettext, NSS, time zone, iconv, C++ locales and exception
// pool, threads and a dlopen'ed library with TLS) is found reachable by the
// scan, so nantrack needs no built-in suppressions: the CI gate passes with
// none. A runtime buffer reported as leaked here is a scan regression.
#include <gtest/gtest.h>

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

TEST(RuntimeBuffers, TheRuntimesOwnMemoryPassesTheGate) {
  ReportedRun run = run_runtime_buffers({});
  EXPECT_EQ(run.result.exit_code, 0) << run.result.err;  // 23 if the gate tripped
  const auto& summary = run.process["summary"];
  EXPECT_EQ(summary["definite_bytes"], 0) << run.result.err;
  EXPECT_EQ(summary["possible_bytes"], 0);
  EXPECT_EQ(summary["indirect_bytes"], 0);
  EXPECT_EQ(summary["suppressed_bytes"], 0);
  EXPECT_GT(summary["reachable_bytes"], 10000);  // setlocale's alone: ~12 KB
  EXPECT_EQ(run.process["leaks"].size(), 0u);  // reachable ones are not listed by default
}

// The loader's own blocks are roots and each thread's TLS vector is scanned,
// so its link maps and the plugin's TLS blocks are reachable. valgrind 3.19
// agrees for all but the joined thread's TLS vector and block, which it
// calls possibly lost: glibc keeps them, with the thread's stack, for reuse.
TEST(RuntimeBuffers, EveryBlockIsReachableTheLoadersToo) {
  ReportedRun run = run_runtime_buffers({"--show-reachable"});
  EXPECT_EQ(run.result.exit_code, 0) << run.result.err;
  std::set<std::string> loader_functions;
  for (const auto& leak : run.process["leaks"]) {
    EXPECT_EQ(leak["kind"], "reachable") << describe(leak) << ": " << leak;
    if (leak["stack"][0].value("module", "").find("/ld-linux") != std::string::npos)
      loader_functions.insert(describe(leak));
  }
  EXPECT_GT(run.process["leaks"].size(), 50u);
  for (const char* expected : {"reachable allocate_dtv", "reachable allocate_dtv_entry", "reachable _dl_new_object"})
    EXPECT_TRUE(loader_functions.count(expected)) << expected << " missing; the loader's: " << ::testing::PrintToString(loader_functions);
}

}  // namespace
}  // namespace nantrack::testing
