#include "preload/leak_check.h"

#include "preload/shim.h"
#include "tracker/stack_switch.h"
#include "tracker/stderr_output.h"
#include "tracker/text_buffer.h"

namespace nantrack {
namespace {

// "==4242== nantrack: leak check 1 (nantrack_check_leaks()): 24 bytes in 1
// block leaked (1 definite, 0 indirect, 0 possible), 100 bytes in 3 blocks
// still reachable; snapshot trace: DIR/nantrack.4242.snapshot-1.trace"
void print_outcome(const SnapshotResult& result, const char* caller) {
  const LeakTally& leaks = result.leaks;
  InlineText<PATH_MAX + 512> line;
  line << "==" << tracker().pid() << "== nantrack: leak check " << result.sequence << " (" << caller << "): ";
  line.grouped(leaks.lost_bytes()) << " bytes in ";
  line.grouped(leaks.lost_blocks()) << (leaks.lost_blocks() == 1 ? " block" : " blocks") << " leaked (";
  line.grouped(leaks.blocks_of(LeakClass::NotScanned) + leaks.blocks_of(LeakClass::Definite)) << " definite, ";
  line.grouped(leaks.blocks_of(LeakClass::Indirect)) << " indirect, ";
  line.grouped(leaks.blocks_of(LeakClass::Possible)) << " possible), ";
  const uint64_t reachable = leaks.blocks_of(LeakClass::Reachable);
  line.grouped(leaks.bytes_of(LeakClass::Reachable)) << " bytes in ";
  line.grouped(reachable) << (reachable == 1 ? " block" : " blocks") << " still reachable; ";
  if (result.written)
    line << "snapshot trace: " << result.path << " (nantrack report shows its stacks)\n";
  else
    line << "no snapshot trace could be written\n";
  print_to_stderr(line.view());
}

}  // namespace

int64_t check_leaks_now(SnapshotTrigger trigger, const char* caller, LeakRoots::ProgramState program) {
  shim::InsideNantrack inside;
  int64_t lost_blocks = -1;
  // The thread may have a small stack (a snapshot signal sent to a pool's
  // 16 KiB thread overflowed it).
  call_on_fresh_stack([&] {
    const SnapshotResult result = tracker().write_snapshot(trigger, program);
    if (!result.made) return;
    if (tracker().options().report) print_outcome(result, caller);
    lost_blocks = static_cast<int64_t>(result.leaks.lost_blocks());
  });
  return lost_blocks;
}

}  // namespace nantrack
