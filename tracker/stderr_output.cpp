#include "tracker/stderr_output.h"

#include <cerrno>
#include <climits>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tracker/file_identity.h"
#include "tracker/text_buffer.h"

namespace nantrack {
namespace {

struct StartStderr {
  bool noted = false;
  FileIdentity file;  // not known: descriptor 2 was closed at start
  // Its path when it can be opened again: a terminal or a regular file.
  // Pipes and sockets cannot be, and holding a copy of the descriptor
  // instead would keep a reader waiting for end-of-file on it after the
  // program closed its own.
  char path[PATH_MAX] = {};
};
StartStderr g_start;
bool g_may_reopen = true;  // until stop_reopening_stderr()

}  // namespace

void note_start_stderr() {
  struct stat status;
  g_start.noted = true;
  if (fstat(2, &status) != 0) return;
  g_start.file = {status.st_dev, status.st_ino, true};
  if (!S_ISREG(status.st_mode) && !S_ISCHR(status.st_mode)) return;
  ssize_t length = readlink("/proc/self/fd/2", g_start.path, sizeof(g_start.path) - 1);
  g_start.path[length > 0 && g_start.path[0] == '/' ? length : 0] = '\0';
}

StderrOutput::StderrOutput() : fd_(2) {
  if (!g_start.noted) return;
  const int saved_errno = errno;
  if (!FileIdentity::of(2).same_as(g_start.file)) {
    fd_ = g_may_reopen && g_start.path[0] ? open(g_start.path, O_WRONLY | O_APPEND | O_NOCTTY | O_CLOEXEC) : -1;
    // What opened is checked too: the path may now name another file.
    if (fd_ >= 0 && !FileIdentity::of(fd_).same_as(g_start.file)) {
      close(fd_);
      fd_ = -1;
    }
  }
  errno = saved_errno;
}

StderrOutput::~StderrOutput() {
  if (fd_ == 2 || fd_ < 0) return;
  const int saved_errno = errno;
  close(fd_);
  errno = saved_errno;
}

void stop_reopening_stderr() { g_may_reopen = false; }

bool print_to_stderr(std::string_view text) {
  StderrOutput output;
  return output.fd() >= 0 && write_all(output.fd(), text);
}

}  // namespace nantrack
