// nantrack's own messages on stderr.
#pragma once

#include <cstdio>
#include <string>
#include <string_view>
#include <utility>

#include <fmt/format.h>

#include "tracker/shell_word.h"

namespace nantrack {

// Writes a message on stderr, and never fails: fmt::print throws when the
// write does, and the reader of `nantrack run ... 2>&1 | head` may have
// gone. A message nobody can read is dropped, and the run still writes its
// report files, removes its temporary directory and exits as it should.
template <typename... Args>
void say(fmt::format_string<Args...> format, Args&&... args) {
  const std::string text = fmt::format(format, std::forward<Args>(args)...);
  std::fwrite(text.data(), 1, text.size(), stderr);
}

// Out of memory, most likely under a `ulimit -v`: "nantrack: out of memory
// <for what> (is the address space limited? ...)". Said the same wherever
// nantrack runs out.
inline void say_out_of_memory(std::string_view for_what = "") {
  say("nantrack: out of memory{}{} (is the address space limited? see ulimit -v)\n", for_what.empty() ? "" : " ",
      for_what);
}

// Words of a command nantrack prints for the user to paste, each quoted
// where a shell would otherwise split or expand it (shell_word(), in
// tracker/shell_word.h, quotes one).
template <typename Words>
std::string shell_words(const Words& words) {
  std::string command;
  for (std::string_view word : words) command += (command.empty() ? "" : " ") + shell_word(word);
  return command;
}

}  // namespace nantrack
