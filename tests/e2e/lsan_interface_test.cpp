// LeakSanitizer's interface and nantrack_check_leaks(), exported by
// libnantrack.so, on tests/programs/lsan_api.c (through the installed
// header) and lsan_weak.c (declared weak, as code written for LSan does).
#include <gtest/gtest.h>

#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "tests/e2e/traced_run.h"

namespace nantrack::testing {
namespace {

// trace_format's leak_kind values, as leak_kinds_of_size() spells them.
const std::string kDefinite = "1", kReachable = "4";

RunResult run_case(const std::string& name) { return run({program("lsan_api"), name}); }

TEST(LsanInterface, IgnoredObjectIsNotALeakAndWhatItPointsToIsReachable) {
  RunResult result = run_case("ignore");
  ASSERT_EQ(result.out, "ignore done\n") << result.err;
  EXPECT_EQ(leak_kinds_of_size(result.only_trace(), 4001), kReachable) << "ignored";
  EXPECT_EQ(leak_kinds_of_size(result.only_trace(), 4002), kReachable) << "only the ignored block points to it";
  // A stack address, an interior pointer, NULL: one line each, no crash.
  size_t complaints = 0;
  for (size_t at = 0; (at = result.err.find("nantrack: __lsan_ignore_object(", at)) != std::string::npos; ++at)
    ++complaints;
  EXPECT_EQ(complaints, 3u) << result.err;
  EXPECT_NE(result.err.find("no live heap block starts there; nothing is ignored"), std::string::npos);
}

TEST(LsanInterface, BlocksAllocatedWhileDisabledAreIgnoredAndEnableDoesNotUnderflow) {
  RunResult result = run_case("disable");
  ASSERT_EQ(result.out, "disable done\n") << result.err;
  EXPECT_EQ(leak_kinds_of_size(result.only_trace(), 4003), kReachable) << "allocated while disabled (nested)";
  EXPECT_EQ(leak_kinds_of_size(result.only_trace(), 4004), kReachable) << "held by the ignored block";
  EXPECT_EQ(leak_kinds_of_size(result.only_trace(), 4005), kDefinite) << "allocated after the last enable";
  EXPECT_NE(result.err.find("nantrack: __lsan_enable() without a matching __lsan_disable() on this thread: ignored"),
            std::string::npos)
      << result.err;
}

TEST(LsanInterface, RootRegionKeepsABlockReachableUntilUnregisteredOrUnreadable) {
  RunResult result = run_case("root_region");
  ASSERT_EQ(result.out, "registered: 0\nunregistered: 1\nunreadable: 1\nunmapped: 1\nroot_region done\n")
      << result.err;
  std::vector<const Trace*> snapshots = result.snapshots();
  ASSERT_EQ(snapshots.size(), 4u);
  EXPECT_EQ(leak_kinds_of_size(*snapshots[0], 4006), kReachable) << "registered";
  EXPECT_EQ(leak_kinds_of_size(*snapshots[1], 4006), kDefinite) << "unregistered";
  EXPECT_EQ(leak_kinds_of_size(*snapshots[2], 4006), kDefinite) << "registered, PROT_NONE";
  EXPECT_EQ(leak_kinds_of_size(*snapshots[3], 4006), kDefinite) << "registered, unmapped";
  EXPECT_NE(result.err.find("no such region is registered; nothing removed"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("nantrack: __lsan_register_root_region("), std::string::npos) << result.err;
}

// leak_scan=0 skips the scan at exit only: a check the program asks for
// still sorts the blocks, or its answer would mean nothing.
TEST(LsanInterface, ChecksStillScanWithTheExitScanOff) {
  RunResult result = run({program("lsan_api"), "root_region"}, {.nantrack_options = "leak_scan=0"});
  ASSERT_EQ(result.out, "registered: 0\nunregistered: 1\nunreadable: 1\nunmapped: 1\nroot_region done\n")
      << result.err;
  ASSERT_EQ(result.snapshots().size(), 4u);
  EXPECT_EQ(leak_kinds_of_size(*result.snapshots()[0], 4006), kReachable) << "registered";
  for (const LiveBlock& block : result.final_trace().live_blocks) EXPECT_EQ(block.leak_kind, 0) << block.size;
}

TEST(LsanInterface, RecoverableCheckSaysWhetherItFoundALeakAndWritesASnapshot) {
  RunResult result = run_case("recoverable");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, "without a leak: 0\nwith a leak: 1\nnantrack_check_leaks: 1\nrecoverable done\n")
      << result.err;
  std::vector<const Trace*> snapshots = result.snapshots();
  ASSERT_EQ(snapshots.size(), 3u);
  for (uint32_t i = 0; i < 3; ++i) {
    EXPECT_EQ(snapshots[i]->process.snapshot->sequence, i + 1);
    EXPECT_EQ(snapshots[i]->process.snapshot->trigger, SnapshotTrigger::Check);
    EXPECT_TRUE(snapshots[i]->errors.empty());
  }
  EXPECT_EQ(leak_kinds_of_size(*snapshots[0], 4007), "") << "not allocated yet";
  EXPECT_EQ(leak_kinds_of_size(*snapshots[1], 4007), kDefinite);
  EXPECT_EQ(leak_kinds_of_size(result.final_trace(), 4007), "") << "freed before exit";
  EXPECT_EQ(result.final_trace().process.exit_status, 0);
}

TEST(LsanInterface, LeakCheckIsMadeOnceAndStandsForTheExitTraceAtTheGate) {
  RunResult result = run_case("leak_check");
  ASSERT_EQ(result.out, "leak_check done\n") << result.err;
  std::vector<const Trace*> snapshots = result.snapshots();
  ASSERT_EQ(snapshots.size(), 1u) << "the second __lsan_do_leak_check() does nothing";
  EXPECT_EQ(snapshots[0]->process.snapshot->trigger, SnapshotTrigger::LeakCheck);
  EXPECT_FALSE(snapshots[0]->process.leak_check_done);
  EXPECT_EQ(leak_kinds_of_size(*snapshots[0], 4008), kDefinite);
  EXPECT_EQ(leak_kinds_of_size(*snapshots[0], 4009), "");
  EXPECT_TRUE(result.final_trace().process.leak_check_done);
  EXPECT_EQ(leak_kinds_of_size(result.final_trace(), 4009), kDefinite);
}

RunResult nantrack_run(const std::vector<std::string>& program_and_arguments) {
  std::vector<std::string> command = {nantrack_cli(), "run", "--error-exitcode", "23", "--json", "/dev/stdout", "--"};
  command.insert(command.end(), program_and_arguments.begin(), program_and_arguments.end());
  return run(command, {.traced = false});
}

// What the gate counts: the leak check's snapshot, not the exit trace.
TEST(LsanInterface, GateCountsTheLeakChecksSnapshotOnly) {
  RunResult result = nantrack_run({program("lsan_api"), "leak_check"});
  EXPECT_EQ(result.exit_code, 23) << result.err;
  EXPECT_NE(result.err.find("CI gate failed: 4008 bytes leaked in 1 block"), std::string::npos) << result.err;
  const nlohmann::json report = nlohmann::json::parse(result.out.substr(result.out.find('{')));
  ASSERT_EQ(report["processes"].size(), 2u);
  EXPECT_EQ(report["processes"][0]["snapshot"]["trigger"], "leak_check");
  EXPECT_EQ(report["processes"][0]["leaks_gate"], true);
  EXPECT_TRUE(report["processes"][1]["snapshot"].is_null());
  EXPECT_EQ(report["processes"][1]["leaks_gate"], false);
}

// A recoverable check's leak (freed before exit) is reported, marked as
// the snapshot it is, and does not trip the gate.
TEST(LsanInterface, RecoverableSnapshotsAreReportedButDoNotGate) {
  RunResult result = nantrack_run({program("lsan_api"), "recoverable"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.err.find("snapshot 2 (check): a leak check made while the process ran"), std::string::npos)
      << result.err;
  EXPECT_NE(result.err.find("4,007 bytes in 1 block leaked (definite)"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("CI gate passed"), std::string::npos) << result.err;
  const nlohmann::json report = nlohmann::json::parse(result.out.substr(result.out.find('{')));
  ASSERT_EQ(report["processes"].size(), 4u);
  EXPECT_EQ(report["processes"][1]["snapshot"], nlohmann::json({{"sequence", 2}, {"trigger", "check"}}));
  EXPECT_EQ(report["processes"][1]["leaks_gate"], false);
}

// With report=1 the library says what each check found and where it went.
TEST(LsanInterface, ReportOptionPrintsOneLinePerCheck) {
  RunResult result = run({program("lsan_api"), "recoverable"}, {.nantrack_options = "report=1"});
  EXPECT_NE(result.err.find("nantrack: leak check 2 (__lsan_do_recoverable_leak_check()): 4,007 bytes in 1 block "
                            "leaked (1 definite, 0 indirect, 0 possible)"),
            std::string::npos)
      << result.err;
  EXPECT_NE(result.err.find(".snapshot-2.trace"), std::string::npos) << result.err;
}

TEST(LsanInterface, ChecksFromSeveralThreadsAndFromAnAtexitHandlerDoNotDeadlock) {
  RunResult result = run_case("concurrent");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, "concurrent done\nat exit: 0\n") << "no check refused, no leak";
  EXPECT_EQ(result.err.find("did not stop"), std::string::npos) << result.err;
  std::set<uint32_t> sequences;
  for (const Trace* snapshot : result.snapshots()) sequences.insert(snapshot->process.snapshot->sequence);
  EXPECT_EQ(sequences.size(), 11u) << "5 checks on each of two threads, one at exit";
  EXPECT_EQ(*sequences.rbegin(), 11u);
}

TEST(LsanInterface, WeakReferencesBindToNantrackAndStayNullWithoutIt) {
  RunResult traced = run({program("lsan_weak")});
  EXPECT_EQ(traced.out, "recoverable check: 1\ndlsym: found\n") << traced.err;
  ASSERT_EQ(traced.snapshots().size(), 2u);
  EXPECT_EQ(traced.snapshots()[1]->process.snapshot->trigger, SnapshotTrigger::LeakCheck);

  RunResult plain = run({program("lsan_weak")}, {.traced = false});
  EXPECT_EQ(plain.exit_code, 0) << plain.err;
  EXPECT_EQ(plain.out, "no leak checker\ndlsym: absent\n");
}

// A pointer the caller keeps only in a callee-saved register across the
// check, and uses after it, keeps its block reachable: the entry point
// saves those registers before nantrack's code can spill and reuse them.
// The masked run holds the same block's address XOR a mask there instead,
// and must find it leaked: nothing else the scan reads points to it.
TEST(LsanInterface, ABlockHeldOnlyInACalleeSavedRegisterAcrossTheCheckIsReachable) {
  for (const std::string mode : {"kept", "masked"}) {
    RunResult result = run({program("check_register"), mode});
    ASSERT_EQ(result.out, "check_register done\n") << mode << result.err;
    std::vector<const Trace*> snapshots = result.snapshots();
    ASSERT_EQ(snapshots.size(), 1u) << mode << result.err;
    EXPECT_EQ(leak_kinds_of_size(*snapshots[0], 3003), mode == "kept" ? kReachable : kDefinite) << mode;
    EXPECT_TRUE(blocks_of_size(result.final_trace(), 3003).empty()) << mode << ": freed after the check";
  }
}

}  // namespace
}  // namespace nantrack::testing
