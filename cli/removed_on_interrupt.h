// A temporary directory that goes with nantrack run when ^C (SIGINT),
// SIGTERM or SIGHUP ends it.
#pragma once

#include <csignal>
#include <iterator>
#include <string>

namespace nantrack {

// While one lives, those signals (where their action is the default one:
// a background job's ignored SIGINT stays ignored) first remove
// `directory` and its files, then end the process as they would have.
// For the traces of a run being reported, seconds of work for a large
// program: stopped there, the run would leave them in $TMPDIR. One at a
// time.
class RemovedOnInterrupt {
 public:
  explicit RemovedOnInterrupt(const std::string& directory);
  ~RemovedOnInterrupt();
  RemovedOnInterrupt(const RemovedOnInterrupt&) = delete;
  RemovedOnInterrupt& operator=(const RemovedOnInterrupt&) = delete;

 private:
  static constexpr int kSignals[] = {SIGINT, SIGTERM, SIGHUP};
  struct sigaction previous_[std::size(kSignals)];
  bool installed_[std::size(kSignals)] = {};
};

}  // namespace nantrack
