// The snapshot signal (option snapshot_signal, SIGUSR2 by default) on
// tests/programs/snapshot_signal.c, which leaks 5001 bytes and goes on.
#include <gtest/gtest.h>

#include <csignal>
#include <string>

#include "tests/e2e/traced_run.h"

namespace nantrack::testing {
namespace {

const std::string kDefinite = "1";

TEST(SnapshotSignal, WritesASnapshotAndTheProgramGoesOnToItsOwnExitStatus) {
  RunResult result = run({program("snapshot_signal"), "self"});
  EXPECT_EQ(result.exit_code, 3) << result.err;
  EXPECT_EQ(result.out, "still running\n");
  std::vector<const Trace*> snapshots = result.snapshots();
  ASSERT_EQ(snapshots.size(), 1u) << result.err;
  EXPECT_EQ(snapshots[0]->process.snapshot->trigger, SnapshotTrigger::Signal);
  EXPECT_EQ(leak_kinds_of_size(*snapshots[0], 5001), kDefinite);
  EXPECT_EQ(result.final_trace().process.exit_status, 3);
}

TEST(SnapshotSignal, TheProgramsOwnHandlerWins) {
  RunResult result = run({program("snapshot_signal"), "own"});
  EXPECT_EQ(result.exit_code, 4) << result.err;
  EXPECT_EQ(result.out, "program handler ran: 1\n");
  EXPECT_TRUE(result.snapshots().empty());
}

TEST(SnapshotSignal, ZeroTurnsItOffAndTheSignalKeepsItsDefaultAction) {
  RunResult result = run({program("snapshot_signal"), "self"}, {.nantrack_options = "snapshot_signal=0"});
  EXPECT_EQ(result.signal, SIGUSR2) << result.err;
  for (const Trace& trace : result.traces) EXPECT_FALSE(trace.process.snapshot);
}

TEST(SnapshotSignal, OtherSignalsCanBeChosenAndUnusableOnesAreRefused) {
  RunResult chosen = run({program("snapshot_signal"), "self", std::to_string(SIGUSR1)},
                         {.nantrack_options = "snapshot_signal=" + std::to_string(SIGUSR1)});
  EXPECT_EQ(chosen.exit_code, 3) << chosen.err;
  ASSERT_EQ(chosen.snapshots().size(), 1u) << chosen.err;
  EXPECT_EQ(chosen.snapshots()[0]->process.snapshot->trigger, SnapshotTrigger::Signal);
  RunResult not_ours =
      run({program("snapshot_signal"), "self"}, {.nantrack_options = "snapshot_signal=" + std::to_string(SIGUSR1)});
  EXPECT_EQ(not_ours.signal, SIGUSR2) << "SIGUSR2 is no longer ours";
  RunResult refused = run({program("snapshot_signal"), "own"}, {.nantrack_options = "snapshot_signal=9"});
  EXPECT_NE(refused.err.find("nantrack: snapshot_signal=9 cannot be used"), std::string::npos) << refused.err;
  EXPECT_EQ(refused.exit_code, 4);
}

// Signals that land while a thread is inside nantrack (holding a shard
// lock, maybe) wait for it to leave; nothing deadlocks, every snapshot is
// a valid trace, and the program ends as it would have.
TEST(SnapshotSignal, SignalsToThreadsBusyAllocatingAreTakenLater) {
  RunResult result = run({program("snapshot_signal"), "threads"});
  EXPECT_EQ(result.exit_code, 5) << result.err;
  EXPECT_EQ(result.out, "workers done\n");
  EXPECT_FALSE(result.snapshots().empty());
  EXPECT_EQ(leak_kinds_of_size(result.final_trace(), 5001), kDefinite);
}

// A snapshot taken in the handler runs on the thread's alternate signal
// stack, then on a stack of ours. A signal of the program's own (its
// handler also on the alternate stack) that comes meanwhile must nest
// there, not start again at the alternate stack's top, over the snapshot
// handler's frames: that crashed 3 runs in 4. Four runs, so that the
// crash would show.
TEST(SnapshotSignal, TheProgramsSignalsCanComeWhileASnapshotRunsInItsHandler) {
  for (int attempt = 0; attempt < 4; ++attempt) {
    RunResult result = run({program("snapshot_signal"), "nested"});
    ASSERT_EQ(result.exit_code, 6) << "run " << attempt << ", signal " << result.signal << ": " << result.err;
    EXPECT_EQ(result.out, "pinged: 1\n");
    EXPECT_GE(result.snapshots().size(), 10u);
    EXPECT_EQ(leak_kinds_of_size(result.final_trace(), 5001), kDefinite);
  }
}

}  // namespace
}  // namespace nantrack::testing
