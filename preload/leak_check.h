// A leak check made while the program runs (LeakSanitizer's interface, the
// snapshot signal): the snapshot trace, and the one stderr line that says
// what it found and where it went.
#pragma once

#include "tracker/tracker.h"

namespace nantrack {

// Runs tracker().write_snapshot(trigger) as nantrack's own work (what it
// allocates stays untracked). `caller` names the request in the stderr
// line, which report=1 prints (nantrack run, which sets report=0, reports
// the snapshot trace with the others instead). `program_stack`: the frame
// of the exported function the program called (or of the signal handler,
// whose frame holds the interrupted registers); nantrack's frames below it
// hold stale copies of block addresses that would hide leaks.
// `program_registers`: the caller's callee-saved registers at its call, when
// the entry point saved them (preload/leak_check_entry.S). Not from inside
// nantrack. Returns the blocks it found leaked (definite, indirect and
// possible), or -1 when it made no check. The check, its snapshot's
// result (4 KiB with its path) included, runs on a stack mapped for it:
// the signal may find a thread with little stack left.
int64_t check_leaks_now(SnapshotTrigger trigger, const char* caller, const void* program_stack,
                        const LeakRoots::CalleeSavedRegisters* program_registers = nullptr);

}  // namespace nantrack
