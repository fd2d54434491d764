// A leak check made while the program runs (LeakSanitizer's interface, the
// snapshot signal): the snapshot trace, and the one stderr line that says
// what it found and where it went.
#pragma once

#include "tracker/tracker.h"

namespace nantrack {

// Runs tracker().write_snapshot(trigger) as nantrack's own work (what it
// allocates stays untracked). `caller` names the request in the stderr
// line, which report=1 prints (nantrack run, which sets report=0, reports
// the snapshot trace with the others instead). `program`: where this
// thread left the program (LeakRoots::ProgramState): the frame of the
// exported function the program called, with the callee-saved registers
// the entry point saved (preload/leak_check_entry.S), or the context the
// snapshot signal interrupted; nantrack's frames below hold stale copies
// of block addresses that would hide leaks. Not from inside nantrack.
// Returns the blocks it found leaked (definite, indirect and possible), or
// -1 when it made no check. The check, its snapshot's result (4 KiB with
// its path) included, runs on a stack mapped for it: the signal may find
// a thread with little stack left.
int64_t check_leaks_now(SnapshotTrigger trigger, const char* caller, LeakRoots::ProgramState program);

}  // namespace nantrack
