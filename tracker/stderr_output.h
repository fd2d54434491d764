// Where nantrack's own messages go (errors at the bad call, warnings, the
// duck banner, the report at exit): the stderr the process started with,
// and never a file of the program's.
//
// A program may close descriptor 2 and later open a file of its own that
// gets that number: one run with `2>&-` that writes its output file, a
// daemon that closes stdio and opens its database. Writing to descriptor 2
// then would put our text into that file. So each message first checks
// that descriptor 2 is still the file it was at start (same device and
// inode). If it is not, or it is closed (coreutils close stderr before
// exit), the start stderr is opened again by its path when it was a
// terminal or a file (appending); a pipe or socket cannot be, and the
// message is dropped: the trace still holds what it said.
#pragma once

#include <string_view>

namespace nantrack {

// Notes what descriptor 2 is now: from Tracker::init, before the program
// runs. Until then messages go to descriptor 2 as it is.
void note_start_stderr();

// A descriptor for our messages while it lives: 2, the start stderr opened
// again, or -1 (nowhere). Async-signal-safe; keeps errno.
class StderrOutput {
 public:
  StderrOutput();
  ~StderrOutput();
  StderrOutput(const StderrOutput&) = delete;
  StderrOutput& operator=(const StderrOutput&) = delete;

  int fd() const { return fd_; }

 private:
  int fd_;
};

// From now on the start stderr is never opened again (messages go to
// descriptor 2 while it is the start stderr, else nowhere): before the
// process enters a seccomp sandbox (sandbox.h), where openat may kill it.
// fstat, which stdio makes on every stream, is still made.
void stop_reopening_stderr();

// Writes `text` to a StderrOutput. Async-signal-safe; keeps errno.
bool print_to_stderr(std::string_view text);

}  // namespace nantrack
