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
// Async-signal-safe when from_signal is true. `interrupted`: from a signal
// handler of ours, the context the signal interrupted; the leak scan reads
// this thread from there (LeakRoots::ProgramState), not from the handler,
// which may run on the alternate stack.
void finish_process(const ExitInfo& exit, bool from_signal, const ucontext_t* interrupted = nullptr);
// For a signal handler about to end the process after finish_process():
// when another thread is inside finish_process (it took the trace first:
// two threads crashed, or wrote to a pipe nobody reads, at once), waits
// until it is done, up to a minute. That thread ends the process itself;
// ending it here would cut its trace and report short. When that thread
// is exiting normally, the exit goes on too: a crash or signal that comes
// while we write its trace comes in time the program would not have had
// without us (natively it had ended by then). Async-signal-safe.
void wait_while_another_thread_finishes();
// The process is about to end without running destructors, ours included
// (_exit, _Exit, quick_exit, the exit_group system call): write the trace
// now, with this status (lifecycle.cpp).
void finish_without_destructors(int status);

}  // namespace nantrack
