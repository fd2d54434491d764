// Paths that go with nantrack when ^C (SIGINT), SIGTERM or SIGHUP ends it
// while they are unfinished: the temporary directory of a run's traces
// while they are reported (seconds of work for a large program), a report
// file while it is written under its temporary name (the JSON of a
// million leaked blocks is 80 MB). Stopped there, nantrack would leave
// them in $TMPDIR, or beside the user's report.
#pragma once

#include <string>

namespace nantrack {

class RemovedOnInterrupt {
 public:
  enum class Kind { File, Directory };  // a directory of files, none of them directories

  // While one lives, those signals (where their action is the default one:
  // a background job's ignored SIGINT stays ignored) first remove `path`,
  // and the other paths held so, then end the process as they would have.
  // They nest, up to kMaxPaths at once (a run's directory, and a report
  // file written meanwhile); beyond that, or for a path too long to keep,
  // the path is just not removed.
  RemovedOnInterrupt(const std::string& path, Kind kind);
  ~RemovedOnInterrupt();
  RemovedOnInterrupt(const RemovedOnInterrupt&) = delete;
  RemovedOnInterrupt& operator=(const RemovedOnInterrupt&) = delete;

  static constexpr int kMaxPaths = 4;

 private:
  int slot_ = -1;  // in the handler's table; -1: none
};

}  // namespace nantrack
