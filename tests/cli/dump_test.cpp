// Runs the built `nantrack` binary: `dump`, and the top-level flags every
// subcommand shares (--version, --help, usage errors).
#include <sys/wait.h>

#include <cstdio>
#include <fstream>
#include <initializer_list>
#include <memory>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "tests/report/trace_builder.h"
#include "version.h"

namespace nantrack {
namespace {

using testing::sample_trace;
using testing::TempPath;
using testing::TraceBuilder;

struct Outcome {
  int status = -1;
  std::string out;
  std::string err;
};

Outcome run_nantrack(std::initializer_list<std::string> args) {
  const TempPath err("stderr");
  std::string command = NANTRACK_BUILD_DIR "/bin/nantrack";
  for (const std::string& arg : args) command += " '" + arg + "'";  // the tests' args hold no quotes
  command += " 2>'" + err.str() + "'";

  Outcome outcome;
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(::popen(command.c_str(), "r"), ::pclose);
  if (!pipe) return outcome;
  char buffer[4096];
  for (size_t got; (got = std::fread(buffer, 1, sizeof buffer, pipe.get())) > 0;)
    outcome.out.append(buffer, got);
  const int wait_status = ::pclose(pipe.release());
  outcome.status = WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) : -1;
  std::ostringstream err_text;
  err_text << std::ifstream(err.str()).rdbuf();
  outcome.err = err_text.str();
  return outcome;
}

// The dump of testing::sample_trace(): the format, spelled out.
std::string sample_dump(const std::string& path) {
  return "trace " + path + R"(
process
  pid 4242, parent 17
  exe /usr/bin/app
  argv ./app --name 'two words' ''
  exit status 3, signal 6 (SIGABRT)
  flags crashed, _exit, forked child
  duration 1.250 s
counters
  allocations 10, frees 6, bytes allocated 2000, peak live bytes 900
modules 2
  /usr/bin/app
    build-id 8a1f00ff, load bias 0x555555554000
    segment 0x555555554000-0x555555555000 r-- file offset 0x0
    segment 0x555555555000-0x555555557000 r-x file offset 0x1000
  /usr/lib/libplugin.so (unloaded)
    build-id none, load bias 0x7f0000000000
    segment 0x7f0000001000-0x7f0000002000 r-x file offset 0x1000
stacks 4
live blocks 4 (607 bytes), 3 groups by stack
  400 bytes in 2 blocks (malloc, operator new), stack 1
    #0 0x555555555a10 app+0x1a10
    #1 0x555555555b20 app+0x1b20
  200 bytes in 1 block (operator new[]), stack 2
    #0 0x7f0000001234 libplugin.so+0x1234
  7 bytes in 1 block (posix_memalign), no stack
errors 2
  double_free of 0x50000 by free in thread 1; block 0x50000 (24 bytes) allocated by malloc
    bad call, stack 3
      #0 0x555555555c30 app+0x1c30
      #1 0x7f0000001300 libplugin.so+0x1300
      #2 0x555555555d40 app+0x1d40
    allocated, stack 1
      #0 0x555555555a10 app+0x1a10
      #1 0x555555555b20 app+0x1b20
    freed, stack 2
      #0 0x7f0000001234 libplugin.so+0x1234
  invalid_free of 0x20010 by operator delete[] in thread 2; block 0x20000 (200 bytes) allocated by ?; pointer: points inside a heap block, not at its start
    bad call, stack 4
      #0 0x1234 ??
    allocated, no stack
    freed, no stack
)";
}

TEST(dump, PrintsEverythingATraceHolds) {
  const TempPath trace("sample.trace");
  TraceBuilder().snapshot(sample_trace()).write(trace.str());
  const Outcome outcome = run_nantrack({"dump", trace.str()});
  EXPECT_EQ(outcome.status, 0);
  EXPECT_EQ(outcome.out, sample_dump(trace.str()));
  EXPECT_EQ(outcome.err, "");
}

TEST(dump, LimitCapsGroupsAndErrors) {
  const TempPath trace("sample.trace");
  TraceBuilder().snapshot(sample_trace()).write(trace.str());
  const Outcome outcome = run_nantrack({"dump", "--limit", "1", trace.str()});
  EXPECT_EQ(outcome.status, 0);
  EXPECT_NE(outcome.out.find("400 bytes in 2 blocks"), std::string::npos);
  EXPECT_EQ(outcome.out.find("200 bytes in 1 block"), std::string::npos);
  EXPECT_NE(outcome.out.find("  ... 2 more groups (--limit 0 shows all)\n"), std::string::npos);
  EXPECT_EQ(outcome.out.find("invalid_free"), std::string::npos);
  EXPECT_NE(outcome.out.find("  ... 1 more errors (--limit 0 shows all)\n"), std::string::npos);

  EXPECT_EQ(run_nantrack({"dump", "--limit", "0", trace.str()}).out, sample_dump(trace.str()));
}

TEST(dump, ReportsAnUnreadableTraceInOneLineAndGoesOn) {
  const TempPath good("good.trace");
  TraceBuilder().snapshot(sample_trace()).write(good.str());
  const TempPath cut("cut.trace");
  TraceBuilder cut_short;
  cut_short.snapshot(sample_trace()).bytes().resize(10);  // inside the file header
  cut_short.write(cut.str());

  const Outcome outcome = run_nantrack({"dump", cut.str(), good.str()});
  EXPECT_EQ(outcome.status, 1);
  EXPECT_EQ(outcome.err, "nantrack: cannot read trace '" + cut.str() +
                             "': truncated after 10 of 16 bytes (was the process killed with SIGKILL?)\n");
  EXPECT_EQ(outcome.out, sample_dump(good.str()));
}

TEST(dump, ReportsAMissingTrace) {
  const Outcome outcome = run_nantrack({"dump", "/nonexistent/nantrack.1.trace"});
  EXPECT_EQ(outcome.status, 1);
  EXPECT_EQ(outcome.err, "nantrack: cannot read trace '/nonexistent/nantrack.1.trace': no such file\n");
  EXPECT_EQ(outcome.out, "");
}

TEST(cli, PrintsItsVersion) {
  const Outcome outcome = run_nantrack({"--version"});
  EXPECT_EQ(outcome.status, 0);
  EXPECT_EQ(outcome.out, std::string("nantrack ") + kVersion + "\n");
}

TEST(cli, PrintsHelp) {
  const Outcome outcome = run_nantrack({"--help"});
  EXPECT_EQ(outcome.status, 0);
  EXPECT_NE(outcome.out.find("dump"), std::string::npos);
  EXPECT_EQ(run_nantrack({"dump", "--help"}).status, 0);
}

TEST(cli, RejectsBadUsageWithStatus2) {
  for (const Outcome& outcome :
       {run_nantrack({}), run_nantrack({"dump"}), run_nantrack({"dump", "--bogus", "x"}),
        run_nantrack({"dump", "--limit", "many", "x"}), run_nantrack({"frobnicate"})}) {
    EXPECT_EQ(outcome.status, 2);
    EXPECT_NE(outcome.err, "");
    EXPECT_EQ(outcome.out, "");
  }
}

}  // namespace
}  // namespace nantrack
