// The end of a traced process, whichever way it comes (after the last
// library destructor, _exit, a fatal signal): write the trace once, then
// what the options ask for on stderr: the duck banner (residue=1) and the
// symbolized report (report=1, by running the nantrack CLI on the trace).
// A program that closed stderr before the end (coreutils do, at exit)
// still gets them when its stderr was a terminal or a file.
#pragma once

#include "tracker/tracker.h"

namespace nantrack {

// From the library constructor: where the CLI is (NANTRACK_CLI, or
// ../bin/nantrack next to libnantrack.so), resolved while paths are valid,
// and where stderr goes.
void prepare_finish();
// Async-signal-safe when from_signal is true.
void finish_process(const ExitInfo& exit, bool from_signal);
// The process is about to end without running destructors, ours included
// (_exit, _Exit, quick_exit, the exit_group system call): write the trace
// now, with this status (lifecycle.cpp).
void finish_without_destructors(int status);

}  // namespace nantrack
