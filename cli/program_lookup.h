// Finding the program `nantrack run` is asked to run, the way a shell
// would, and noticing programs that LD_PRELOAD cannot reach.
#pragma once

#include <optional>
#include <string>

namespace nantrack {

struct ProgramLookup {
  std::string path;        // what to exec; empty when not runnable
  int shell_status = 0;    // 127 (not found) or 126 (not executable) when empty
  std::string problem;     // one line for the user when empty
  // Why the dynamic loader will ignore LD_PRELOAD for it, if it will:
  // statically linked (no PT_INTERP) or set-user/group-ID.
  std::optional<std::string> untraceable;
};

ProgramLookup find_program(const std::string& name);

}  // namespace nantrack
