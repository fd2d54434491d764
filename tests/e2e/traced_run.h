// Runs a program (optionally under libnantrack.so) in a fresh trace
// directory, captures its stdout, stderr and exit status, and reads back
// every trace it left.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "report/symbolizer.h"
#include "report/trace.h"

namespace nantrack::testing {

struct RunOptions {
  bool traced = true;                   // LD_PRELOAD=libnantrack.so
  std::string nantrack_options;         // appended to output_dir=<fresh dir>
  std::vector<std::string> environment;  // extra NAME=value entries; a bare NAME unsets it
  uint64_t address_space_limit = 0;      // RLIMIT_AS for the program, in bytes (0: as inherited)
  bool read_traces = true;               // false: leave them unread (a test of a cut-short one)
};

struct RunResult {
  int exit_code = -1;  // -1 when killed by a signal
  int signal = 0;
  std::string out;
  std::string err;
  std::string trace_dir;
  std::vector<Trace> traces;  // sorted by pid

  // The one trace of the process with this pid; fails the test otherwise.
  const Trace& trace_of(uint32_t pid) const;
  const Trace& only_trace() const;
  // With snapshot traces (nantrack.<pid>.snapshot-<n>.trace) beside it: the
  // one process's own trace, and its snapshots in order.
  const Trace& final_trace() const;
  std::vector<const Trace*> snapshots() const;
};

RunResult run(const std::vector<std::string>& argv, const RunOptions& options = {});

// Runs argv without us and then under us, and checks that the program
// printed `expected_out` without us and the same under us, and exited 0.
// Returns the traced run.
RunResult expect_same_output_as_without_us(const std::vector<std::string>& argv, const std::string& expected_out);

// The nantrack CLI with these arguments, itself untraced; `environment`
// as in RunOptions.
RunResult nantrack(std::vector<std::string> arguments, std::vector<std::string> environment = {});
// The nantrack command printed in `err` after `printed` (which ends with
// "nantrack "), with `more` arguments after it, run as a user pasting it
// into a shell would; exit code -1 when `err` holds no such command.
RunResult nantrack_as_printed(const std::string& err, const std::string& printed, const std::string& more = "");
// The same started and left running, as a shell starts a foreground job
// (SIGINT at its default action, whatever the test inherited): stdout on
// /dev/null, stderr on `stderr_fd` (-1: /dev/null). Returns its pid, for
// the caller to signal and wait for.
pid_t start_nantrack(std::vector<std::string> arguments, std::vector<std::string> environment = {},
                     int stderr_fd = -1);

// A fresh directory under $TMPDIR, removed with everything in it.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::string read_file(const std::string& path);

std::string program(const std::string& name);  // build/tests/programs/<name>
std::string bench_program(const std::string& name);  // build/bench/<name>
std::string library_path();                    // build/lib/libnantrack.so
std::string nantrack_cli();                    // build/bin/nantrack

// Leak accounting over a trace's live blocks.
uint64_t leaked_bytes(const Trace& trace);
std::vector<const LiveBlock*> blocks_of_size(const Trace& trace, uint64_t size);
// The leak kinds (trace_format's leak_kind) of the blocks of this size,
// sorted: "1 2 2"; "" when there is none.
std::string leak_kinds_of_size(const Trace& trace, uint64_t size);

// The function names of a stack, innermost first, inlined frames included.
std::vector<std::string> function_names(const Trace& trace, StackId stack);
// Whether `function` appears in the stack: the exact name, or a C++ name
// with its parameter list ("second_free" matches "second_free(void*)").
bool stack_has(const Trace& trace, StackId stack, const std::string& function);

}  // namespace nantrack::testing
