// `nantrack run` and `nantrack report` as a user meets them: the report,
// the extra formats, the CI gate's exit codes, suppressions, bad input.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <regex>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "tests/e2e/traced_run.h"

namespace nantrack::testing {
namespace {

int count(const std::string& text, const std::string& what) {
  int n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

TEST(CliRun, ReportsTheDemoSymbolizedAndKeepsTheProgramsExitStatus) {
  RunResult result = nantrack({"run", "--", program("leaky_demo")});
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_EQ(result.out, "inventory: 1 item(s) on the shelf\n");  // stdout is the program's alone
  EXPECT_NE(result.err.find("SUMMARY: nantrack: 1,044 bytes leaked in 5 blocks; 2 errors (1 double free, 1 "
                            "mismatched free)."),
            std::string::npos)
      << result.err;
  EXPECT_NE(result.err.find("in inventory::release(inventory::Stock*) " NANTRACK_SOURCE_DIR
                            "/tests/programs/leaky_demo.cpp:56 (leaky_demo+0x"),
            std::string::npos)
      << result.err;
  EXPECT_NE(result.err.find("1,024 bytes in 1 block leaked (definite)"), std::string::npos);
  EXPECT_NE(result.err.find("[inlined]"), std::string::npos);
}

// Rust's functions are named as rustc mangles them, v0 ("_R...") or legacy
// ("_ZN...17h<hash>E"); the report gives their paths, from DWARF's linkage
// name or, without debug info, from the symbol table. Before, v0 names
// showed mangled and legacy ones kept their hash.
TEST(CliRun, RustFunctionNamesAreDemangled) {
  TempDir dir;
  RunResult result = nantrack({"run", "--json", dir / "r.json", "--", program("rust_names")});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.err.find(" in mycrate::cache::allocate "), std::string::npos) << result.err;
  const nlohmann::json json = nlohmann::json::parse(read_file(dir / "r.json"));
  std::map<uint64_t, std::string> site_of_size;
  for (const auto& leak : json["processes"][0]["leaks"])
    site_of_size[leak["bytes"].get<uint64_t>()] = leak["stack"][0]["function"].get<std::string>();
  EXPECT_EQ(site_of_size[111], "mycrate::cache::allocate");
  EXPECT_EQ(site_of_size[222], "mycrate::cache::refill");
  EXPECT_EQ(site_of_size[333], "mycrate::cache::evict");
}

TEST(CliRun, WritesJsonHtmlAndSarif) {
  TempDir dir;
  RunResult result = nantrack({"run", "--json", dir / "r.json", "--html", dir / "r.html", "--sarif", dir / "r.sarif",
                               "--", program("leaky_demo")});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  nlohmann::json json = nlohmann::json::parse(read_file(dir / "r.json"));
  EXPECT_EQ(json["tool"], "nantrack");
  EXPECT_EQ(json["format_version"], 1);
  ASSERT_EQ(json["processes"].size(), 1u);
  const auto& process = json["processes"][0];
  EXPECT_EQ(process["exit_status"], 0);
  EXPECT_TRUE(process["signal"].is_null());
  // leaked_* counts every unsuppressed live block: stdout's buffer too,
  // still reachable.
  EXPECT_EQ(process["summary"]["leaked_bytes"], 1044 + 4096);
  EXPECT_EQ(process["summary"]["leaked_blocks"], 5 + 1);
  EXPECT_EQ(process["summary"]["definite_bytes"], 1044);
  EXPECT_EQ(process["summary"]["reachable_bytes"], 4096);
  for (const char* kind : {"double_free", "invalid_free", "mismatched_free", "heap_overflow", "write_after_free"})
    EXPECT_TRUE(process["summary"]["errors"].contains(kind)) << kind;
  EXPECT_EQ(process["summary"]["errors"]["double_free"], 1);
  EXPECT_EQ(process["summary"]["errors"]["mismatched_free"], 1);
  EXPECT_EQ(process["summary"]["errors"]["invalid_free"], 0);
  EXPECT_EQ(process["leaks"][0]["bytes"], 1024);
  EXPECT_EQ(process["errors"][0]["kind"], "double_free");
  EXPECT_EQ(process["errors"][0]["stack"][0]["line"], 56);
  std::string html = read_file(dir / "r.html");
  EXPECT_NE(html.find("<html"), std::string::npos);
  EXPECT_NE(html.find("inventory::release"), std::string::npos);
  nlohmann::json sarif = nlohmann::json::parse(read_file(dir / "r.sarif"));
  EXPECT_EQ(sarif["version"], "2.1.0");
  const auto& results = sarif["runs"][0]["results"];
  EXPECT_EQ(results.size(), 4u);  // 2 leak sites, 2 errors
  bool located_double_free = false;
  for (const auto& result : results)
    if (result["ruleId"] == "double_free") {
      const auto& location = result["locations"][0]["physicalLocation"];
      EXPECT_TRUE(location["artifactLocation"]["uri"].get<std::string>().ends_with("tests/programs/leaky_demo.cpp"))
          << location;
      EXPECT_EQ(location["region"]["startLine"], 56);
      located_double_free = true;
    }
  EXPECT_TRUE(located_double_free);
}

// The same bad free in a loop is printed once when it happens, and the
// reports give it once with its count; the counts add up to every time it
// came, for the SUMMARY, the JSON and the gate alike.
TEST(CliRun, AnErrorRepeatedInALoopIsShownOnceWithItsCount) {
  TempDir dir;
  RunResult result =
      nantrack({"run", "--error-exitcode", "9", "--json", dir / "r.json", "--sarif", dir / "r.sarif", "--html",
                dir / "r.html", "--", program("bad_frees"), "invalid_global_in_a_loop"});
  EXPECT_EQ(result.exit_code, 9) << result.err;
  EXPECT_EQ(result.out, "survived\n");
  // At the calls, one line each for the two mistakes (and the report's two).
  size_t shown = 0;
  for (size_t at = 0; (at = result.err.find("nantrack: invalid free of", at)) != std::string::npos; ++at) ++shown;
  EXPECT_EQ(shown, 4u) << result.err.substr(0, 4000);
  EXPECT_NE(result.err.find("repeats of an error are counted in the report, not printed"), std::string::npos);
  EXPECT_NE(result.err.find("100,000 times in all, from this call with these stacks"), std::string::npos);
  EXPECT_NE(result.err.find("SUMMARY: nantrack: no leaks; 100,001 errors (100,001 invalid frees)."),
            std::string::npos)
      << result.err.substr(result.err.size() > 2000 ? result.err.size() - 2000 : 0);
  EXPECT_NE(result.err.find("CI gate failed: 100001 errors"), std::string::npos);
  EXPECT_LT(result.err.size(), 10000u) << "no line per repeat";

  const nlohmann::json json = nlohmann::json::parse(read_file(dir / "r.json"));
  const auto& process = json["processes"][0];
  EXPECT_EQ(process["summary"]["errors"]["invalid_free"], 100001);
  ASSERT_EQ(process["errors"].size(), 2u);
  EXPECT_EQ(process["errors"][0]["count"], 100000);
  EXPECT_EQ(process["errors"][0]["stack"][0]["function"], "free_it(void*)");
  EXPECT_EQ(process["errors"][1]["count"], 1);
  const nlohmann::json sarif = nlohmann::json::parse(read_file(dir / "r.sarif"));
  const auto& results = sarif["runs"][0]["results"];
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[0]["occurrenceCount"], 100000);
  EXPECT_NE(read_file(dir / "r.html").find("\"count\":100000"), std::string::npos);
}

// A real overflow, found by the guard bytes, read back from the JSON report
// with the side and the bytes that changed.
TEST(CliRun, JsonSaysWhichSideOfTheBlockAnOverflowChanged) {
  TempDir dir;
  RunResult result = nantrack({"run", "--json", dir / "r.json", "--", program("heap_corruption"), "new_array_before"});
  EXPECT_EQ(result.exit_code, 0) << result.err;  // the program's own status: no gate asked for
  nlohmann::json json = nlohmann::json::parse(read_file(dir / "r.json"));
  const auto& errors = json["processes"][0]["errors"];
  ASSERT_EQ(errors.size(), 1u) << errors;
  EXPECT_EQ(errors[0]["kind"], "heap_overflow");
  EXPECT_EQ(errors[0]["side"], "before");
  EXPECT_EQ(errors[0]["bytes_changed"], 2);
  EXPECT_EQ(errors[0]["first_changed_offset"], 1);
  EXPECT_EQ(errors[0]["size"], 40);
  EXPECT_TRUE(errors[0]["message"].get<std::string>().starts_with("heap overflow: 2 bytes before the 40-byte block"))
      << errors[0]["message"];
}

TEST(CliRun, NamesFunctionsInDlclosedLibrariesAndThreads) {
  RunResult plugin = nantrack({"run", "--", program("dlopen_leak"), program("libleaky_plugin.so")});
  EXPECT_EQ(plugin.exit_code, 0) << plugin.err;
  EXPECT_NE(plugin.err.find("4,242 bytes in 1 block leaked"), std::string::npos) << plugin.err;
  EXPECT_NE(plugin.err.find("in plugin_leak " NANTRACK_SOURCE_DIR "/tests/programs/leaky_plugin.c:6 (libleaky_plugin.so+0x"),
            std::string::npos)
      << plugin.err;
  RunResult threads = nantrack({"run", "--", program("threads")});
  EXPECT_NE(threads.err.find("4,000 bytes in 40 blocks leaked"), std::string::npos) << threads.err;
  EXPECT_NE(threads.err.find("in worker " NANTRACK_SOURCE_DIR "/tests/programs/threads.c:"), std::string::npos);
}

TEST(CliRun, GateExitCodes) {
  RunResult tripped = nantrack({"run", "--error-exitcode", "23", "--", program("leaky_demo")});
  EXPECT_EQ(tripped.exit_code, 23);
  EXPECT_NE(tripped.err.find("nantrack: CI gate failed"), std::string::npos) << tripped.err;

  RunResult clean = nantrack({"run", "--error-exitcode", "23", "--", program("leak_stack"), "clean"});
  EXPECT_EQ(clean.exit_code, 0) << clean.err;
  EXPECT_NE(clean.err.find("nantrack: CI gate passed"), std::string::npos) << clean.err;

  RunResult only_errors = nantrack({"run", "--error-exitcode", "23", "--fail-on", "errors", "--", program("leak_stack")});
  EXPECT_EQ(only_errors.exit_code, 0) << only_errors.err;

  RunResult within_limit = nantrack({"run", "--error-exitcode", "23", "--fail-on", "definite",
                                     "--max-leaked-bytes", "5000", "--", program("leak_stack")});
  EXPECT_EQ(within_limit.exit_code, 0) << within_limit.err;
  RunResult over_limit = nantrack({"run", "--error-exitcode", "23", "--fail-on", "definite",
                                   "--max-leaked-bytes", "1000", "--", program("leak_stack")});
  EXPECT_EQ(over_limit.exit_code, 23) << over_limit.err;

  // Without a gate the program's own status comes through. A program a
  // signal killed takes nantrack run with it, after the report, as it
  // would end without us: the parent sees the signal, not 128+N.
  EXPECT_EQ(nantrack({"run", "--", program("exit_modes"), "exit3"}).exit_code, 3);
  const RunResult crashed = nantrack({"run", "--", program("exit_modes"), "segv"});
  EXPECT_EQ(crashed.signal, SIGSEGV) << crashed.exit_code;
  EXPECT_NE(crashed.err.find("SUMMARY: nantrack:"), std::string::npos) << crashed.err;
  const RunResult native = run({program("exit_modes"), "segv"}, {.traced = false});
  EXPECT_EQ(crashed.signal, native.signal);
  // Its leaks do not trip the gate (the signal is the finding), its errors
  // do, and then the gate decides the status.
  EXPECT_EQ(nantrack({"run", "--error-exitcode", "23", "--fail-on", "all", "--", program("exit_modes"), "segv"}).signal,
            SIGSEGV);
  EXPECT_EQ(nantrack({"run", "--error-exitcode", "23", "--options", "abort_on_error=1", "--", program("bad_frees"),
                      "double_free"})
                .exit_code,
            23);
}

// A child killed on purpose, as a death test's is, leaves its blocks
// listed but does not fail the gate; its parent's own leaks still would.
TEST(CliRun, ACrashedChildsBlocksDoNotTripTheGate) {
  const RunResult result = nantrack({"run", "--error-exitcode", "9", "--", program("death_child")});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, "child killed by signal 6\n");
  EXPECT_NE(result.err.find("100 bytes in 1 block leaked (definite)"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("killed by signal 6 (SIGABRT): blocks live at that moment are listed as leaked"),
            std::string::npos)
      << result.err;
  EXPECT_NE(result.err.find("nantrack: CI gate passed"), std::string::npos) << result.err;
}

TEST(CliRun, SuppressionsInBothDialects) {
  TempDir dir;
  {
    std::ofstream(dir / "lsan.supp") << "# the kilobyte leaks are known\nleak:leak_kilobytes\n";
    std::ofstream(dir / "valgrind.supp") << "{\n   deep_recursion\n   Memcheck:Leak\n   fun:malloc\n   fun:recurse\n}\n";
  }
  RunResult lsan = nantrack({"run", "--suppressions", dir / "lsan.supp", "--", program("leak_stack")});
  EXPECT_EQ(lsan.err.find("leak_kilobytes /"), std::string::npos) << lsan.err;
  EXPECT_NE(lsan.err.find("leak:leak_kilobytes"), std::string::npos) << lsan.err;  // listed as used
  EXPECT_NE(lsan.err.find("77 bytes in 1 block leaked"), std::string::npos) << lsan.err;

  RunResult both = nantrack({"run", "--suppressions", dir / "lsan.supp", "--suppressions", dir / "valgrind.supp",
                             "--error-exitcode", "9", "--", program("leak_stack")});
  EXPECT_EQ(both.exit_code, 0) << both.err;
  EXPECT_NE(both.err.find("deep_recursion"), std::string::npos) << both.err;
}

TEST(CliRun, GeneratedSuppressionsSilenceTheNextRun) {
  TempDir dir;
  RunResult first = nantrack({"run", "--gen-suppressions", "--", program("leak_stack")});
  // The suppressions follow the SUMMARY line (not the LEAK SUMMARY before it).
  size_t summary = first.err.find("\nSUMMARY");
  ASSERT_NE(summary, std::string::npos) << first.err;
  std::ofstream(dir / "generated.supp") << first.err.substr(first.err.find('\n', summary + 1) + 1);
  RunResult second = nantrack({"run", "--suppressions", dir / "generated.supp", "--error-exitcode", "9", "--",
                               program("leak_stack")});
  EXPECT_EQ(second.exit_code, 0) << first.err << "\n---\n" << second.err;
}

// A report path that is a symbolic link writes the file it names (the link
// stays a link), and one that is a pipe (a FIFO, a shell's >(...)) is
// written into, not replaced by a file: the rename that makes a regular
// report whole is for regular files only.
TEST(CliRun, ReportsGoThroughSymbolicLinksAndIntoPipes) {
  TempDir dir;
  std::ofstream(dir / "target.json") << "old\n";
  std::filesystem::create_symlink(dir / "target.json", dir / "link.json");
  RunResult linked = nantrack({"run", "--json", dir / "link.json", "--", program("leak_stack")});
  EXPECT_EQ(linked.exit_code, 0) << linked.err;
  EXPECT_TRUE(std::filesystem::is_symlink(dir / "link.json"));
  EXPECT_EQ(nlohmann::json::parse(read_file(dir / "target.json"))["tool"], "nantrack");

  ASSERT_EQ(mkfifo((dir / "pipe.json").c_str(), 0600), 0);
  // The reader gives up after 30 s rather than wait for a writer for ever.
  std::future<std::string> received = std::async(std::launch::async, [fifo = dir / "pipe.json"] {
    std::string text;
    const int fd = open(fifo.c_str(), O_RDONLY | O_NONBLOCK);
    for (int waited_ms = 0; fd >= 0 && waited_ms < 30000;) {
      char buffer[65536];
      const ssize_t got = read(fd, buffer, sizeof buffer);
      if (got > 0) {
        text.append(buffer, static_cast<size_t>(got));
      } else if (got == 0 && !text.empty()) {
        break;  // the writer is done
      } else {
        usleep(10 * 1000);
        waited_ms += 10;
      }
    }
    if (fd >= 0) close(fd);
    return text;
  });
  RunResult piped = nantrack({"run", "--json", dir / "pipe.json", "--", program("leak_stack")});
  EXPECT_EQ(piped.exit_code, 0) << piped.err;
  const std::string json = received.get();
  ASSERT_FALSE(json.empty()) << "nothing came through the pipe";
  EXPECT_EQ(nlohmann::json::parse(json)["tool"], "nantrack");
  EXPECT_TRUE(std::filesystem::is_fifo(dir / "pipe.json"));
}

// An --output-dir used before keeps the earlier traces, but they are not
// this run's: its report and its gate see only what this run wrote.
TEST(CliRun, AnOutputDirUsedBeforeLeavesEarlierTracesOutOfTheReport) {
  TempDir dir;
  RunResult first = nantrack({"run", "--output-dir", dir / "traces", "--", program("leak_stack")});
  ASSERT_NE(first.err.find("leaked in 4 blocks"), std::string::npos) << first.err;
  // The same directory by another way, which the messages name plainly.
  RunResult second =
      nantrack({"run", "--output-dir", dir / "other/../traces", "--error-exitcode", "9", "--", "/bin/true"});
  EXPECT_EQ(second.exit_code, 0) << second.err;
  EXPECT_NE(second.err.find("traces kept in " + dir / "traces\n"), std::string::npos) << second.err;
  EXPECT_EQ(second.err.find("leak_stack"), std::string::npos) << second.err;
  EXPECT_NE(second.err.find("SUMMARY: nantrack: no leaks, no errors."), std::string::npos) << second.err;
  // Both stay in the directory, for `nantrack report`.
  RunResult both = nantrack({"report", dir / "traces"});
  EXPECT_NE(both.out.find("leak_stack"), std::string::npos) << both.out << both.err;
}

// Runs sharing an --output-dir at the same time (ctest -j, each test under
// nantrack run): each reports on its own processes only, and its gate
// sees only them (before: a run reported, and was failed by, the leaks
// and errors of every trace another run wrote in the meantime).
TEST(CliRun, RunsSharingAnOutputDirAtOnceReportOnlyTheirOwn) {
  TempDir dir;
  const std::string traces = dir / "traces", go = dir / "go";
  std::filesystem::create_directory(traces);
  // Whatever happens below, the first run is let go before the test ends.
  struct LetGo {
    std::string file;
    ~LetGo() { std::ofstream{file}; }
  } let_go{go};
  std::future<RunResult> waiting = std::async(std::launch::async, [&] {
    return nantrack({"run", "--output-dir", traces, "--error-exitcode", "9", "--json", dir / "waiting.json", "--",
                     "/bin/sh", "-c", "while [ ! -e \"$0\" ]; do sleep 0.01; done", go});
  });
  // The first run's shell is tracing into the directory before the second starts.
  for (int tries = 0; tries < 500 && std::filesystem::is_empty(traces); ++tries)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  const RunResult leaking = nantrack({"run", "--output-dir", traces, "--", program("bad_frees"), "double_free"});
  EXPECT_NE(leaking.err.find("double free"), std::string::npos) << leaking.err;
  std::ofstream{go};
  const RunResult waited = waiting.get();
  EXPECT_EQ(waited.exit_code, 0) << waited.err;
  EXPECT_EQ(waited.err.find("bad_frees"), std::string::npos) << waited.err;
  const auto report = nlohmann::json::parse(read_file(dir / "waiting.json"));
  for (const auto& process : report["processes"])
    EXPECT_NE(process["argv"][0].get<std::string>(), program("bad_frees")) << process["argv"];
  // Every trace ends up in the directory, and nothing else is left there.
  int trace_files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(traces)) {
    EXPECT_EQ(entry.path().extension(), ".trace") << entry.path();
    ++trace_files;
  }
  EXPECT_EQ(trace_files, static_cast<int>(report["processes"].size()) + 1);
}

// An executable file without a #! line is a shell script to shells and
// to execvp(): /bin/sh runs it, and is traced.
TEST(CliRun, AScriptWithoutAHashBangLineRunsUnderTheShell) {
  TempDir dir;
  std::ofstream(dir / "plain-script") << "echo \"script ran with $# arguments: $1 $2\"\n";
  std::filesystem::permissions(dir / "plain-script", std::filesystem::perms::owner_all);
  RunResult result = nantrack({"run", "--", dir / "plain-script", "one", "two"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, "script ran with 2 arguments: one two\n");
  EXPECT_NE(result.err.find("SUMMARY: nantrack:"), std::string::npos) << result.err;
  EXPECT_EQ(result.err.find("left no trace"), std::string::npos) << result.err;
}

// A file that exec cannot start gets one line: no word of traces or a
// report, since nothing ran.
TEST(CliRun, AProgramExecCannotStartGetsOneLine) {
  TempDir dir;
  std::ofstream(dir / "missing-interpreter") << "#!/nonexistent/interpreter\necho never\n";
  std::filesystem::permissions(dir / "missing-interpreter", std::filesystem::perms::owner_all);
  RunResult result = nantrack({"run", "--", dir / "missing-interpreter"});
  EXPECT_EQ(result.exit_code, 127);
  EXPECT_EQ(result.out, "");
  EXPECT_EQ(result.err, "nantrack: cannot run '" + (dir / "missing-interpreter") +
                            "': required file not found (its #! interpreter or its dynamic loader is missing)\n");
}

TEST(CliRun, BadInputGetsOneClearMessage) {
  RunResult missing = nantrack({"run", "--", "no-such-program-nantrack"});
  EXPECT_EQ(missing.exit_code, 127);
  EXPECT_NE(missing.err.find("nantrack: cannot run 'no-such-program-nantrack': command not found"), std::string::npos)
      << missing.err;

  RunResult not_executable = nantrack({"run", "--", NANTRACK_SOURCE_DIR "/README.md"});
  EXPECT_EQ(not_executable.exit_code, 126);

  RunResult bad_flag = nantrack({"run", "--no-such-flag", "--", program("leak_stack")});
  EXPECT_EQ(bad_flag.exit_code, 2);
  EXPECT_EQ(bad_flag.out.find("leak_stack"), std::string::npos);
  EXPECT_TRUE(bad_flag.err.starts_with("nantrack: ")) << bad_flag.err;

  // A usage error names what is missing, as every message of ours starts.
  RunResult no_program = nantrack({"run"});
  EXPECT_EQ(no_program.exit_code, 2);
  EXPECT_EQ(no_program.err, "nantrack: PROGRAM is required\nRun with --help for more information.\n");
  RunResult no_trace = nantrack({"report"});
  EXPECT_EQ(no_trace.exit_code, 2);
  EXPECT_EQ(no_trace.err, "nantrack: TRACE is required\nRun with --help for more information.\n");

  // A mistyped command is named as such, not taken for a missing one.
  RunResult mistyped = nantrack({"rnu", "--", program("leak_stack")});
  EXPECT_EQ(mistyped.exit_code, 2);
  EXPECT_EQ(mistyped.err,
            "nantrack: unknown command 'rnu' (commands: run, report, dump)\n"
            "Run with --help for more information.\n");
  EXPECT_EQ(mistyped.out, "");
  RunResult without_run = nantrack({program("leak_stack")});
  EXPECT_EQ(without_run.exit_code, 2);
  EXPECT_EQ(without_run.err, "nantrack: unknown command '" + program("leak_stack") +
                                 "' (commands: run, report, dump)\nTo trace it: nantrack run -- " +
                                 program("leak_stack") + "\nRun with --help for more information.\n");
  EXPECT_EQ(without_run.out, "");  // and it did not run
  const RunResult spaced = nantrack({"./my tools/leak"});
  EXPECT_NE(spaced.err.find("To trace it: nantrack run -- './my tools/leak'\n"), std::string::npos) << spaced.err;

  // Values that were taken without a word: "-1" as the largest count, and
  // an empty file name (`--html "$UNSET"`) as no option at all.
  const std::pair<std::vector<std::string>, std::string> silently_taken[] = {
      {{"--max-leaks", "-1"}, "--max-leaks: expected a whole number such as 100, got '-1'"},
      {{"--max-leaked-bytes", "lots"}, "--max-leaked-bytes: expected a whole number such as 100, got 'lots'"},
      {{"--html", ""}, "--html: expected a file name, got nothing"},
      {{"--output-dir", ""}, "--output-dir: expected a directory name, got nothing"},
  };
  for (const auto& [option, message] : silently_taken) {
    std::vector<std::string> arguments = {"run"};
    arguments.insert(arguments.end(), option.begin(), option.end());
    arguments.insert(arguments.end(), {"--", program("leak_stack")});
    RunResult result = nantrack(arguments);
    EXPECT_EQ(result.exit_code, 2) << option[0];
    EXPECT_EQ(result.err, "nantrack: " + message + "\nRun with --help for more information.\n");
    EXPECT_EQ(result.out, "") << option[0];  // the program did not run
  }
  // An empty --fail-on is parsed like any other (it used to stand for "not
  // given", the default kinds).
  RunResult empty_fail_on = nantrack({"run", "--fail-on", "", "--", program("leak_stack")});
  EXPECT_EQ(empty_fail_on.exit_code, 2);
  EXPECT_EQ(empty_fail_on.err, "nantrack: --fail-on needs at least one kind (or 'none')\n");
  EXPECT_EQ(empty_fail_on.out, "");

  RunResult bad_fail_on = nantrack({"run", "--fail-on", "leeks", "--", program("leak_stack")});
  EXPECT_EQ(bad_fail_on.exit_code, 2);
  EXPECT_NE(bad_fail_on.err.find("unknown kind 'leeks' in --fail-on"), std::string::npos) << bad_fail_on.err;

  // Before: read for ever.
  RunResult endless = nantrack({"run", "--suppressions", "/dev/zero", "--", program("leak_stack")});
  EXPECT_EQ(endless.exit_code, 2);
  EXPECT_NE(endless.err.find("cannot read suppressions file '/dev/zero': not a regular file"), std::string::npos)
      << endless.err;

  RunResult unwritable = nantrack({"run", "--html", "/nonexistent-dir/r.html", "--", program("leak_stack")});
  EXPECT_EQ(unwritable.exit_code, 2);
  EXPECT_NE(unwritable.err.find("cannot write HTML report '/nonexistent-dir/r.html'"), std::string::npos)
      << unwritable.err;
  EXPECT_EQ(unwritable.out, "");  // the program was not run for nothing

  TempDir dir;
  std::ofstream(dir / "bad.supp") << "leek:foo\n";
  RunResult bad_supp = nantrack({"run", "--suppressions", dir / "bad.supp", "--", program("leak_stack")});
  EXPECT_EQ(bad_supp.exit_code, 2);
  EXPECT_NE(bad_supp.err.find("bad.supp"), std::string::npos) << bad_supp.err;
  EXPECT_NE(bad_supp.err.find("line 1"), std::string::npos) << bad_supp.err;
}

// CLI11 takes whatever follows an option as its value: a forgotten FILE
// made "--" or the next option a file name (a file "--" was written, or
// "--html" became the JSON file and the HTML file the program to run).
TEST(CliRun, AnOptionMissingItsFileIsAUsageError) {
  const std::vector<std::vector<std::string>> forgotten = {
      {"run", "--html", "--", program("leak_stack")},
      {"run", "--json", "--html", "x.html", "--", program("leak_stack")},
      {"run", "--sarif", "--", program("leak_stack")},
      {"run", "--output-dir", "--", program("leak_stack")},
      {"run", "--suppressions", "--", program("leak_stack")},
      {"report", "--output", "--", "/dev/null"},
  };
  for (const std::vector<std::string>& arguments : forgotten) {
    const RunResult result = nantrack(arguments);
    EXPECT_EQ(result.exit_code, 2) << arguments[1] << ": " << result.err;
    EXPECT_NE(result.err.find(arguments[1] + ": expected a value, got '" + arguments[2] + "'"), std::string::npos)
        << result.err;
    EXPECT_EQ(result.out, "");  // nothing ran
  }
  // "-" alone is standard output, as before.
  const RunResult to_stdout = nantrack({"run", "--json", "-", "--", program("leak_stack")});
  EXPECT_NE(to_stdout.out.find("\"tool\": \"nantrack\""), std::string::npos) << to_stdout.err;
}

// The library skips a bad NANTRACK_OPTIONS item with a warning and runs
// on; typed on nantrack run's command line, it stops the run instead.
TEST(CliRun, BadLibraryOptionsOnTheCommandLineStopTheRun) {
  const RunResult bad = nantrack({"run", "--options", "stak_depth=8:redzone=5000:loud", "--", program("leak_stack")});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_EQ(bad.out, "");
  for (const char* problem : {"unknown option 'stak_depth'", "option 'redzone': value 5000 is outside 0..4096",
                              "'loud' is not key=value"})
    EXPECT_NE(bad.err.find(problem), std::string::npos) << problem << " in " << bad.err;
  const RunResult bad_size = nantrack({"run", "--quarantine-bytes", "lots", "--", program("leak_stack")});
  EXPECT_EQ(bad_size.exit_code, 2);
  EXPECT_NE(bad_size.err.find("--quarantine-bytes: expected a size such as 65536, 64k or 64m"), std::string::npos)
      << bad_size.err;
  // Good ones still pass through to the library.
  const RunResult good = nantrack({"run", "--options", "stack_depth=8", "--quarantine-bytes", "1m", "--json", "-",
                                   "--", program("leak_stack")});
  EXPECT_EQ(good.exit_code, 0) << good.err;
  EXPECT_NE(good.out.find("\"tool\": \"nantrack\""), std::string::npos) << good.err;
}

// A supervisor signals the pid it started, nantrack run's: stop (TERM),
// reload (HUP) and reopen-your-logs (USR1, USR2) go on to the program,
// which handles them as it would without us; nantrack run stays to report.
TEST(CliRun, SignalsSentToItGoOnToTheProgram) {
  TempDir dir;
  const std::string script =
      "mkfifo \"$3\" || exit; \"$0\" run -- \"$1\" \"$2\" > \"$3\" & cli=$!; exec 3< \"$3\"; "
      "read ready <&3; kill -s \"$4\" $cli; cat <&3; wait $cli; echo \"status $?\"";
  for (const auto& [number, name] : {std::pair{SIGTERM, "TERM"}, {SIGHUP, "HUP"}, {SIGUSR1, "USR1"}, {SIGUSR2, "USR2"}}) {
    const std::string fifo = dir / (std::string("out-") + name);
    const RunResult result = run({"/bin/sh", "-c", script, nantrack_cli(), program("wait_signal"),
                                  std::to_string(number), fifo, name},
                                 {.traced = false});
    EXPECT_EQ(result.out, "got " + std::to_string(number) + "\nstatus 0\n") << name << ": " << result.err;
    EXPECT_NE(result.err.find("SUMMARY: nantrack:"), std::string::npos) << name << ": " << result.err;
  }
}

// A program whose malloc is its own (an allocator linked in) wins over
// ours: nantrack sees none of its blocks, and says so rather than "no leaks".
TEST(CliRun, AProgramWithItsOwnMallocIsNotCalledLeakFree) {
  const RunResult own = nantrack({"run", "--", program("own_malloc")});
  EXPECT_EQ(own.out, "done\n");
  EXPECT_EQ(own.exit_code, 0) << own.err;
  EXPECT_NE(own.err.find("note: the program defines malloc itself"), std::string::npos) << own.err;
  EXPECT_NE(own.err.find("SUMMARY: nantrack: no leaks, no errors seen (the program's own malloc was not)."),
            std::string::npos)
      << own.err;
  // The usual program, whose malloc is libc's, gets no such note; nor one
  // built without PIE that takes malloc's address, whose executable then
  // holds a canonical PLT entry the loader resolves malloc to.
  for (const char* usual_program : {"leak_stack", "malloc_address"}) {
    const RunResult usual = nantrack({"run", "--", program(usual_program)});
    EXPECT_EQ(usual.err.find("malloc itself"), std::string::npos) << usual_program << ": " << usual.err;
    EXPECT_EQ(usual.err.find("own malloc"), std::string::npos) << usual_program << ": " << usual.err;
    EXPECT_NE(usual.err.find("leaked in"), std::string::npos) << usual_program << ": " << usual.err;
  }
}

// A program that leaves a traced process running behind it (a daemon, a
// background job): its trace comes after the report, so the directory is
// kept for it and the report says where (before, the directory was
// removed, and that process's trace was lost when it ended).
TEST(CliRun, AProcessLeftRunningGetsItsTraceDirectoryKept) {
  const RunResult result =
      nantrack({"run", "--", "/bin/sh", "-c", "\"$0\" 10 > /dev/null 2>&1 &", program("wait_signal")});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  const std::regex said("a traced process started by the program is still running \\(pid ([0-9]+)\\): its trace "
                        "goes to (\\S+) when it ends");
  std::smatch found;
  ASSERT_TRUE(std::regex_search(result.err, found, said)) << result.err;
  const pid_t left = std::stoi(found[1]);
  const std::string directory = found[2];
  EXPECT_NE(result.err.find("nantrack report " + directory), std::string::npos) << result.err;
  // Once the process catches SIGUSR1 (it may still be starting), end it.
  auto catches_usr1 = [&] {
    std::ifstream status("/proc/" + std::to_string(left) + "/status");
    for (std::string line; std::getline(status, line);)
      if (line.starts_with("SigCgt:")) return (std::stoull(line.substr(7), nullptr, 16) >> (SIGUSR1 - 1)) & 1;
    return 0ull;
  };
  for (int tenths = 0; tenths < 50 && !catches_usr1(); ++tenths)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  ASSERT_EQ(kill(left, SIGUSR1), 0);
  const std::string trace = directory + "/nantrack." + std::to_string(left) + ".trace";
  // Ended: gone, or a zombie nobody has reaped yet.
  auto ended = [&] {
    std::ifstream stat("/proc/" + std::to_string(left) + "/stat");
    std::string line;
    return !std::getline(stat, line) || line.find(") Z ") != std::string::npos;
  };
  for (int tenths = 0; tenths < 100 && !ended(); ++tenths)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  std::error_code no_file;
  EXPECT_GT(std::filesystem::file_size(trace, no_file), 0u) << trace;
  std::filesystem::remove_all(directory, no_file);
}

// The directory a run names in "traces kept in DIR; report them again
// with: nantrack report DIR", or "" when it names none that way.
std::string directory_kept_for_a_new_report(const std::string& err) {
  const std::regex said("traces kept in (\\S+); report them again with: nantrack report (\\S+)\n");
  std::smatch found;
  if (!std::regex_search(err, found, said) || found[1] != found[2]) return "";
  return found[1];
}

// The command a run printed for its traces' report, run as pasted into a
// shell, with JSON output.
RunResult report_again_as_printed(const std::string& err) {
  return nantrack_as_printed(err, "; report them again with: nantrack ", "--format json");
}

// Report files are found writable before the program runs; the program
// may then remove a file's directory (a `make clean`). The other files are
// still written, the traces are kept for another report, and the exit
// status is still the program's (before: exit status 1, the files after
// the failed one not written, the temporary directory left unnamed). The
// command printed for that report works pasted into a shell, whatever the
// paths hold (before: a directory "it's tmp" came back as "it's" "tmp").
TEST(CliRun, AReportFileThatCannotBeWrittenInTheEndLeavesTheRestAndTheTraces) {
  TempDir dir;
  std::filesystem::create_directory(dir / "gone");
  std::filesystem::create_directory(dir / "it's tmp");
  const RunResult result =
      nantrack({"run", "--json", dir / "gone/r.json", "--html", dir / "r.html", "--", "/bin/sh", "-c",
                "rm -r \"$0\"; exit 7", dir / "gone"},
               {"TMPDIR=" + dir / "it's tmp"});
  EXPECT_EQ(result.exit_code, 7) << result.err;
  EXPECT_NE(result.err.find("nantrack: cannot write JSON report '" + dir / "gone/r.json" + "'"), std::string::npos)
      << result.err;
  EXPECT_NE(read_file(dir / "r.html").find("<html"), std::string::npos);
  EXPECT_NE(result.err.find("nantrack: traces kept in " + dir / "it's tmp/nantrack-"), std::string::npos)
      << result.err;
  const RunResult again = report_again_as_printed(result.err);
  EXPECT_EQ(again.exit_code, 0) << result.err << again.err;
  EXPECT_EQ(nlohmann::json::parse(again.out, nullptr, false)["processes"].size(), 2u);  // sh and rm

  // An --output-dir that holds earlier runs' traces is not named for the
  // new report: this run's traces are, one by one.
  const std::string traces = dir / "our traces";
  ASSERT_EQ(nantrack({"run", "--output-dir", traces, "--", program("leak_stack")}).exit_code, 0);
  std::filesystem::create_directory(dir / "gone");
  const RunResult shared = nantrack({"run", "--output-dir", traces, "--json", dir / "gone/r.json", "--", "/bin/sh",
                                     "-c", "rm -r \"$0\"", dir / "gone"});
  EXPECT_EQ(shared.exit_code, 0) << shared.err;
  const RunResult reported = report_again_as_printed(shared.err);
  EXPECT_EQ(reported.exit_code, 0) << shared.err << reported.err;
  const nlohmann::json report = nlohmann::json::parse(reported.out, nullptr, false);
  EXPECT_EQ(report["processes"].size(), 2u) << shared.err;  // sh's and rm's traces, not leak_stack's
  EXPECT_EQ(reported.out.find("leak_stack"), std::string::npos);
}

// The wait status of a child; -1 if it cannot be had.
int wait_status(pid_t pid) {
  int status = -1;
  return pid > 0 && waitpid(pid, &status, 0) == pid ? status : -1;
}

// Runs the nantrack CLI with stderr on a pipe whose reader is gone; returns
// the wait status.
int nantrack_with_its_reader_gone(const std::vector<std::string>& arguments, const std::string& tmpdir) {
  int report_pipe[2];
  if (pipe(report_pipe) != 0) return -1;
  close(report_pipe[0]);
  const pid_t pid = start_nantrack(arguments, {"TMPDIR=" + tmpdir}, report_pipe[1]);
  close(report_pipe[1]);
  return wait_status(pid);
}

// `nantrack run ... 2>&1 | head`: the reader of the report may quit before
// its end. nantrack run goes on without it: it writes the report files,
// removes its temporary directory (or keeps it, as asked) and exits with
// the program's status (before: killed by SIGPIPE at its first line, the
// JSON report never written and the traces left in $TMPDIR).
TEST(CliRun, AReportReaderThatQuitsEarlyLosesNothingElse) {
  TempDir dir;
  auto temporary_directories = [&] {
    int found = 0;
    for (const auto& entry : std::filesystem::directory_iterator(dir.path()))
      found += entry.path().filename().string().starts_with("nantrack-");
    return found;
  };
  const int status =
      nantrack_with_its_reader_gone({"run", "--json", dir / "r.json", "--", program("leak_stack")}, dir.path());
  ASSERT_TRUE(WIFEXITED(status)) << "killed by signal " << WTERMSIG(status);
  EXPECT_EQ(WEXITSTATUS(status), 0);
  const auto report = nlohmann::json::parse(read_file(dir / "r.json"));
  EXPECT_GE(report["processes"][0]["summary"]["leaked_blocks"].get<int>(), 4);
  EXPECT_EQ(temporary_directories(), 0);

  // A message after the report ("traces kept in ...") cannot be written
  // either: the run still ends as it should (before, with SIGPIPE ignored:
  // fmt::print's exception, exit status 1).
  const int kept = nantrack_with_its_reader_gone({"run", "--keep-traces", "--", program("leak_stack")}, dir.path());
  ASSERT_TRUE(WIFEXITED(kept)) << "killed by signal " << WTERMSIG(kept);
  EXPECT_EQ(WEXITSTATUS(kept), 0);
  EXPECT_EQ(temporary_directories(), 1);
}

// ^C while the report is being written (here: blocked on a pipe nobody
// reads) ends nantrack run as it would any program, and the temporary
// directory of the traces goes with it (before: left in $TMPDIR).
TEST(CliRun, InterruptedWhileReportingItLeavesNoTemporaryDirectory) {
  TempDir dir;
  int report_pipe[2];
  ASSERT_EQ(pipe(report_pipe), 0);
  // 256 leak sites, all listed: half a megabyte of report.
  const pid_t pid =
      start_nantrack({"run", "--max-leaks", "0", "--", bench_program("leak_million"), "8", "1"},
                     {"TMPDIR=" + dir.path()}, report_pipe[1]);
  close(report_pipe[1]);
  ASSERT_GT(pid, 0);
  // Only the report writes to stderr, and it is larger than the pipe holds:
  // once the pipe stays full, nantrack run is stuck in its report.
  int held = 0, before = -1;
  for (int tries = 0; tries < 600 && (held < 32768 || held != before); ++tries) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    before = held;
    ASSERT_EQ(ioctl(report_pipe[0], FIONREAD, &held), 0);
  }
  ASSERT_GE(held, 32768);
  ASSERT_EQ(kill(pid, SIGINT), 0);
  char drain[4096];
  while (read(report_pipe[0], drain, sizeof drain) > 0) {
  }
  close(report_pipe[0]);
  const int status = wait_status(pid);
  ASSERT_TRUE(WIFSIGNALED(status)) << "exit status " << WEXITSTATUS(status);
  EXPECT_EQ(WTERMSIG(status), SIGINT);
  for (const auto& entry : std::filesystem::directory_iterator(dir.path()))
    ADD_FAILURE() << entry.path() << " left behind";
}

// A report file is written under a temporary name and renamed when whole.
// ^C while it is written (the JSON of a million leaked blocks: 80 MB) ends
// nantrack as before, and takes the half-written file along (before: it
// stayed beside where the report was to go).
TEST(CliReport, InterruptedWhileWritingAReportFileLeavesNoHalfFile) {
  TempDir dir;
  ASSERT_EQ(nantrack({"run", "--output-dir", dir / "traces", "--max-leaks", "1", "--", bench_program("leak_million")})
                .exit_code,
            0);
  const std::string report = dir / "r.json", half = report + ".nantrack-tmp";
  const pid_t pid = start_nantrack({"report", "--json", report, dir / "traces"});
  ASSERT_GT(pid, 0);
  for (int tries = 0; tries < 30000 && !std::filesystem::exists(half); ++tries)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  ASSERT_TRUE(std::filesystem::exists(half));
  ASSERT_EQ(kill(pid, SIGINT), 0);
  const int status = wait_status(pid);
  ASSERT_TRUE(WIFSIGNALED(status)) << "exit status " << WEXITSTATUS(status);
  EXPECT_EQ(WTERMSIG(status), SIGINT);
  EXPECT_FALSE(std::filesystem::exists(half));
  EXPECT_FALSE(std::filesystem::exists(report));
}

// The nantrack CLI with its address space limited to `limit` bytes.
RunResult nantrack_within(uint64_t limit, std::vector<std::string> arguments, std::vector<std::string> environment = {}) {
  arguments.insert(arguments.begin(), nantrack_cli());
  return run(arguments, {.traced = false, .environment = std::move(environment), .address_space_limit = limit});
}

// The text report alone shows the stacks of its --max-leaks biggest leak
// sites: it symbolizes only theirs, and writes the same text as when every
// stack is symbolized for a JSON report. A million leaked blocks from 16k
// stacks then report in under 100 MB of address space (before: 160 MB,
// and out of memory under the limit below).
TEST(CliReport, ATextReportSymbolizesOnlyTheLeakSitesItShows) {
  TempDir dir;
  ASSERT_EQ(nantrack({"run", "--output-dir", dir / "traces", "--max-leaks", "1", "--", bench_program("leak_million")})
                .exit_code,
            0);
  constexpr uint64_t kLimit = 125 << 20;
  auto report_limited = [&](std::vector<std::string> arguments) { return nantrack_within(kLimit, arguments); };
  const RunResult text = report_limited({"report", dir / "traces"});
  EXPECT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("more leak sites not shown"), std::string::npos) << text.out.substr(0, 2000);
  const RunResult with_json = nantrack({"report", "--json", dir / "r.json", dir / "traces"});
  EXPECT_EQ(with_json.exit_code, 0) << with_json.err;
  EXPECT_TRUE(text.out == with_json.out) << "the text differs from the one written beside a JSON report";
  // Every stack symbolized does not fit under the limit.
  EXPECT_EQ(report_limited({"report", "--json", dir / "r2.json", dir / "traces"}).exit_code, 1);
}

// A program that fits in the address space it was given (it lifts its own
// soft limit) can leave more leaks than their report fits in: nantrack run
// says so, keeps the traces for `nantrack report`, lets no gate pass
// without a verdict, and otherwise exits with the program's status
// (before: "nantrack: std::bad_alloc", exit status 1, the temporary
// directory left unnamed).
TEST(CliRun, AReportThatRunsOutOfMemoryKeepsTheTracesAndFailsTheGate) {
  TempDir dir;
  // 30 MB is enough for a report of a few blocks, a million and a half
  // leaked blocks need about 130.
  constexpr uint64_t kLimit = 50 << 20;
  auto run_limited = [&](std::vector<std::string> arguments) {
    return nantrack_within(kLimit, arguments, {"TMPDIR=" + dir.path()});
  };
  const RunResult gated =
      run_limited({"run", "--error-exitcode", "23", "--", program("leaks_above_limit"), "1500000"});
  EXPECT_EQ(gated.exit_code, 23) << gated.err;
  EXPECT_NE(gated.err.find("nantrack: out of memory for the report (is the address space limited? see ulimit -v)\n"),
            std::string::npos)
      << gated.err;
  EXPECT_NE(gated.err.find("nantrack: CI gate failed: no report; exit status 23\n"), std::string::npos) << gated.err;
  const std::string kept = directory_kept_for_a_new_report(gated.err);
  ASSERT_TRUE(kept.starts_with(dir.path())) << gated.err;
  const RunResult again = nantrack({"report", "--max-leaks", "1", kept});
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.out.find("leaked in 1,499,999 blocks"), std::string::npos) << again.out;
  // nantrack report under the same limit (before: "nantrack: std::bad_alloc").
  const RunResult report_limited = run_limited({"report", kept});
  EXPECT_EQ(report_limited.exit_code, 1);
  EXPECT_EQ(report_limited.err, "nantrack: out of memory (is the address space limited? see ulimit -v)\n");

  const RunResult ungated = run_limited({"run", "--", program("leaks_above_limit"), "1500000"});
  EXPECT_EQ(ungated.exit_code, 0) << ungated.err;
  EXPECT_NE(ungated.err.find("nantrack: out of memory for the report"), std::string::npos) << ungated.err;
  EXPECT_EQ(ungated.err.find("CI gate"), std::string::npos) << ungated.err;
  EXPECT_NE(directory_kept_for_a_new_report(ungated.err), "") << ungated.err;
}

// NANTRACK_OPTIONS separates options with ':'. An --output-dir holding
// one went to the library cut there: the traces went to another directory
// (or none), and the run said "no process was traced".
TEST(CliRun, AnOutputDirWithAColonGetsTheTraces) {
  TempDir dir;
  const std::string output = dir / "build:1";
  const RunResult result = nantrack({"run", "--output-dir", output, "--", program("leak_stack")});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.err.find("leaked in"), std::string::npos) << result.err;
  EXPECT_EQ(result.err.find("not key=value"), std::string::npos) << result.err;
  size_t traces = 0;
  for (const auto& entry : std::filesystem::directory_iterator(output)) traces += entry.path().extension() == ".trace";
  EXPECT_EQ(traces, 1u);
}

// Without --output-dir the traces go to a directory made under $TMPDIR:
// one that is missing says so, and what to do, before the program runs.
TEST(CliRun, AMissingTmpdirIsNamedInTheError) {
  const RunResult result = nantrack({"run", "--", program("leak_stack")}, {"TMPDIR=/nonexistent/tmp"});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_EQ(result.out, "") << "the program did not run";
  EXPECT_EQ(result.err,
            "nantrack: cannot create a temporary directory for the traces in '/nonexistent/tmp': No such file or "
            "directory (TMPDIR names it; or give --output-dir)\n");
}

TEST(CliRun, HelpDescribesEveryFlag) {
  RunResult help = nantrack({"run", "--help"});
  EXPECT_EQ(help.exit_code, 0);
  for (const char* flag : {"--output-dir", "--keep-traces", "--html", "--json", "--sarif", "--suppressions",
                           "--error-exitcode", "--fail-on", "--max-leaked-bytes", "--no-follow-children", "--residue",
                           "--gen-suppressions", "--show-reachable", "--stack-depth"})
    EXPECT_NE(help.out.find(flag), std::string::npos) << flag;
  RunResult top = nantrack({"--help"});
  EXPECT_EQ(top.exit_code, 0);
  for (const char* command : {"run", "report", "dump"}) EXPECT_NE(top.out.find(command), std::string::npos) << command;
}

TEST(CliRun, StaticProgramsAreNamedUntraceable) {
  RunResult result = nantrack({"run", "--", program("static_hello")});
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_EQ(result.out, "static hello\n");
  EXPECT_NE(result.err.find("will run untraced: it is statically linked"), std::string::npos) << result.err;
}

TEST(CliRun, FollowsChildrenUnlessToldNot) {
  RunResult both = nantrack({"run", "--", program("fork_exec")});
  EXPECT_EQ(count(both.err, "SUMMARY: nantrack: pid "), 2) << both.err;
  EXPECT_NE(both.err.find("SUMMARY: nantrack: 2 processes in all: "), std::string::npos) << both.err;
  RunResult first_only = nantrack({"run", "--no-follow-children", "--", program("fork_exec")});
  EXPECT_EQ(count(first_only.err, "SUMMARY: nantrack:"), 1) << first_only.err;
}

TEST(CliRun, ResidueBannerOncePerProcessAndNeverWithoutTheOption) {
  RunResult with = nantrack({"run", "--residue", "--", program("fork_exec")});
  EXPECT_EQ(count(with.err, "A wise duck"), 2) << with.err;
  EXPECT_NE(with.err.find("left unfreed"), std::string::npos);
  RunResult without = nantrack({"run", "--", program("fork_exec")});
  EXPECT_EQ(count(without.err, "A wise duck"), 0);
  RunResult preload = run({program("leak_stack")}, {.nantrack_options = "residue=1"});
  EXPECT_EQ(count(preload.err, "A wise duck"), 1);
  EXPECT_NE(preload.err.find("bytes in"), std::string::npos);
}

TEST(CliReport, RerendersKeptTracesInEveryFormat) {
  TempDir dir;
  RunResult ran = nantrack({"run", "--output-dir", dir / "traces", "--", program("leak_stack")});
  ASSERT_EQ(ran.exit_code, 0) << ran.err;
  RunResult text = nantrack({"report", dir / "traces"});
  EXPECT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("leak_kilobytes"), std::string::npos);
  RunResult json = nantrack({"report", "--format", "json", dir / "traces"});
  EXPECT_EQ(nlohmann::json::parse(json.out)["processes"][0]["summary"]["leaked_blocks"].get<int>() >= 4, true);
  RunResult html = nantrack({"report", "--format", "html", "-o", dir / "r.html", dir / "traces"});
  EXPECT_EQ(html.exit_code, 0) << html.err;
  EXPECT_NE(read_file(dir / "r.html").find("leak_kilobytes"), std::string::npos);

  // A text report that cannot be written whole says so (before: exit 0).
  RunResult full = nantrack({"report", "-o", "/dev/full", dir / "traces"});
  EXPECT_EQ(full.exit_code, 1);
  EXPECT_NE(full.err.find("cannot write text report '/dev/full': No space left on device"), std::string::npos)
      << full.err;

  // One that cannot be written does not keep the next from being written.
  RunResult json_full = nantrack({"report", "--json", "/dev/full", "--html", dir / "r2.html", dir / "traces"});
  EXPECT_EQ(json_full.exit_code, 1);
  EXPECT_NE(json_full.err.find("cannot write JSON report '/dev/full': No space left on device"), std::string::npos)
      << json_full.err;
  EXPECT_NE(read_file(dir / "r2.html").find("leak_kilobytes"), std::string::npos);

  // One it could never write is a usage error, found before any trace is
  // read, like the other formats' (before: "Invalid argument", status 1).
  RunResult nowhere = nantrack({"report", "-o", "/nonexistent-dir/r.txt", dir / "traces"});
  EXPECT_EQ(nowhere.exit_code, 2);
  EXPECT_EQ(nowhere.err, "nantrack: cannot write text report '/nonexistent-dir/r.txt': no directory '/nonexistent-dir'\n");
  EXPECT_EQ(nowhere.out, "");
  // One whose directory looks writable and is not (procfs creates no
  // files) says why the open failed, not what errno held after the report.
  RunResult refused = nantrack({"report", "-o", "/proc/nantrack-report.txt", dir / "traces"});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_EQ(refused.err, "nantrack: cannot write text report '/proc/nantrack-report.txt': No such file or directory\n");

  std::ofstream(dir / "broken.trace") << "NANTRACE but not really";
  RunResult broken = nantrack({"report", dir / "broken.trace"});
  EXPECT_EQ(broken.exit_code, 1);
  EXPECT_NE(broken.err.find("nantrack: cannot read trace '" + (dir / "broken.trace") + "'"), std::string::npos)
      << broken.err;
}

// Every leak's stack ends in libc's start code, whose DWARF (libc6-dbg, which
// make deps installs) costs ~80 ms to load: the report keeps those frames
// in the symbol cache the environment names, and reads them back next time.
TEST(CliReport, KeepsSymbolsOfSeparateDebugFilesWhereTheEnvironmentSays) {
  TempDir dir;
  RunResult ran = nantrack({"run", "--output-dir", dir / "traces", "--", program("leak_stack")},
                           {"NANTRACK_SYMBOL_CACHE=off"});
  ASSERT_EQ(ran.exit_code, 0) << ran.err;
  EXPECT_FALSE(std::filesystem::exists(dir / "cache"));

  auto kept_files = [](const std::string& directory) {
    std::vector<std::string> texts;
    std::error_code ignored;
    for (const auto& entry : std::filesystem::directory_iterator(directory, ignored))
      texts.push_back(read_file(entry.path().string()));
    return texts;
  };
  RunResult first = nantrack({"report", dir / "traces"}, {"NANTRACK_SYMBOL_CACHE=" + dir / "cache"});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  const std::vector<std::string> kept = kept_files(dir / "cache");
  EXPECT_TRUE(std::ranges::any_of(kept, [](const std::string& text) {
    return text.find("\t__libc_start_call_main\t") != std::string::npos;
  })) << kept.size() << " files";
  EXPECT_NE(first.out.find("__libc_start_call_main"), std::string::npos) << first.out;

  RunResult again = nantrack({"report", dir / "traces"}, {"NANTRACK_SYMBOL_CACHE=" + dir / "cache"});
  EXPECT_EQ(again.out, first.out);
  RunResult uncached = nantrack({"report", dir / "traces"}, {"NANTRACK_SYMBOL_CACHE=off"});
  EXPECT_EQ(uncached.out, first.out);

  // By default under $XDG_CACHE_HOME, else ~/.cache.
  RunResult in_home = nantrack({"report", dir / "traces"},
                               {"NANTRACK_SYMBOL_CACHE", "XDG_CACHE_HOME", "HOME=" + dir / "home"});
  EXPECT_EQ(in_home.out, first.out);
  EXPECT_EQ(kept_files(dir / "home/.cache/nantrack/symbols").size(), kept.size());
}

// Debian's python3 is stripped and has no debug file: libdw would load the
// debuginfod client (with curl, GnuTLS, Kerberos...) to ask no server.
// The CLI lets it load only when DEBUGINFOD_URLS names one; the report is
// the same either way. Its blocks are all reachable: the report shows them.
TEST(CliReport, LoadsTheDebuginfodClientOnlyWhenAServerIsConfigured) {
  TempDir dir;
  RunResult ran = nantrack({"run", "--show-reachable", "--output-dir", dir / "traces", "--", "/usr/bin/python3", "-c",
                            "import json"});
  ASSERT_EQ(ran.exit_code, 0) << ran.err;
  ASSERT_NE(ran.err.find("(python3"), std::string::npos) << "no frame in python3 to symbolize\n" << ran.err;

  RunResult without =
      nantrack({"report", "--show-reachable", dir / "traces"}, {"LD_DEBUG=files", "DEBUGINFOD_URLS"});
  EXPECT_EQ(without.exit_code, 0) << without.err;
  EXPECT_EQ(without.err.find("libdebuginfod"), std::string::npos) << without.err;
  // Port 9 refuses at once: the client asks and finds nothing.
  RunResult with = nantrack({"report", "--show-reachable", dir / "traces"}, {"LD_DEBUG=files", "DEBUGINFOD_URLS=http://127.0.0.1:9",
                                                          "DEBUGINFOD_CACHE_PATH=" + dir / "debuginfod"});
  EXPECT_NE(with.err.find("libdebuginfod"), std::string::npos);
  EXPECT_EQ(with.out, without.out);
}

TEST(PlainPreload, PrintsTheSymbolizedReportAtExit) {
  RunResult result = run({program("leak_stack")}, {.nantrack_options = "report=1"});
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_EQ(result.out, "leak_stack leaky\n");
  EXPECT_NE(result.err.find("in leak_kilobytes " NANTRACK_SOURCE_DIR "/tests/programs/leak_stack.c:"),
            std::string::npos)
      << result.err;
  EXPECT_EQ(count(result.err, "SUMMARY: nantrack:"), 1);
}

// coreutils close stdout and stderr at exit, before the report: when
// stderr was a file, the report and the banner still reach it.
TEST(PlainPreload, ReportReachesAStderrFileTheProgramClosedAtExit) {
  TempDir dir;
  const std::string log = dir / "stderr.log";
  RunResult result = run({"/bin/sh", "-c", "exec /bin/echo hello 2>" + log},
                         {.nantrack_options = "report=1:residue=1"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, "hello\n");
  std::ifstream in(log);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(count(text, "SUMMARY: nantrack:"), 1) << text;
  EXPECT_EQ(count(text, "A wise duck"), 1) << text;
}

}  // namespace
}  // namespace nantrack::testing
