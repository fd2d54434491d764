// The snapshot_signal option (SIGUSR2 by default): a snapshot trace of a
// running process, e.g. a daemon, on a signal. preload/signal_hooks.cpp
// installs the handler and gives way to a handler the program installs.
#pragma once

#include <csignal>

namespace nantrack {

// Reads the option once, at start-up; a signal that cannot serve is said
// on stderr and turns the feature off.
void choose_snapshot_signal();
// The signal, or 0 when off.
int snapshot_signal();
void on_snapshot_signal(int signal, siginfo_t* info, void* context);

}  // namespace nantrack
