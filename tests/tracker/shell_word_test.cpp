#include "tracker/shell_word.h"

#include <cstdio>
#include <cstdlib>
#include <string>
#include <unistd.h>

#include <gtest/gtest.h>

namespace nantrack {
namespace {

// What `shell` makes of the quoted word, given as printf's one argument in
// a script (so that no other shell parses it first).
std::string as_read_by(const std::string& shell, const std::string& quoted) {
  char script[] = "/tmp/shell_word_test.XXXXXX";
  const int fd = mkstemp(script);
  if (fd < 0) return "(no script)";
  const std::string text = "printf '%s' " + quoted + "\n";
  std::string read = write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) ? "" : "(short write)";
  close(fd);
  if (FILE* output = popen((shell + " " + script).c_str(), "r")) {
    char buffer[256];
    for (size_t got; (got = fread(buffer, 1, sizeof buffer, output)) > 0;) read.append(buffer, got);
    pclose(output);
  }
  unlink(script);
  return read;
}

TEST(ShellWordTest, PlainPathsStayAsTheyAre) {
  EXPECT_EQ(shell_word("/tmp/nantrack-run-x1Y2z3/nantrack.123.trace"), "/tmp/nantrack-run-x1Y2z3/nantrack.123.trace");
  EXPECT_EQ(shell_word("build/out,v2:a=b+c@d%e"), "build/out,v2:a=b+c@d%e");
}

TEST(ShellWordTest, EveryShellReadsTheQuotedWordBackUnchanged) {
  for (const std::string word : {"my traces", "it's", "''", "a'b'c'", "$HOME", "`id`", "*", "~", "a\\b", "x;y",
                                 "new\nline", "tab\there", "\"quoted\"", "", "#not a comment", "{a,b}"}) {
    const std::string quoted = shell_word(word);
    EXPECT_NE(quoted, word) << word;
    for (const std::string shell : {"/bin/sh", "/bin/bash"})
      EXPECT_EQ(as_read_by(shell, quoted), word)
          << shell << " read " << quoted;
  }
}

}  // namespace
}  // namespace nantrack
