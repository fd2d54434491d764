#include "cli/removed_on_interrupt.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

namespace nantrack {
namespace {

// Read by the handler: set before it is installed.
char g_directory[PATH_MAX];

// What getdents64 fills its buffer with (the kernel's struct linux_dirent64).
struct DirectoryEntry {
  uint64_t inode;
  int64_t next;
  unsigned short length;
  unsigned char type;
  char name[];
};

// Removes the files of g_directory, then the directory itself. It holds
// only trace files (no subdirectories). System calls only: it runs in a
// signal handler. Entries are removed while they are listed, which may
// skip some: the listing is read again from the start until a pass
// removes nothing.
void remove_directory() {
  const int directory = open(g_directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (directory < 0) return;
  alignas(DirectoryEntry) char buffer[4096];
  for (bool removed = true; removed;) {
    removed = false;
    lseek(directory, 0, SEEK_SET);
    for (long got; (got = syscall(SYS_getdents64, directory, buffer, sizeof buffer)) > 0;) {
      for (long at = 0; at < got;) {
        const auto* entry = reinterpret_cast<const DirectoryEntry*>(buffer + at);
        at += entry->length;
        if (std::strcmp(entry->name, ".") == 0 || std::strcmp(entry->name, "..") == 0) continue;
        if (unlinkat(directory, entry->name, 0) == 0) removed = true;
      }
    }
  }
  close(directory);
  rmdir(g_directory);
}

// SA_RESETHAND has put the default action back: raised again, the signal
// is held until the handler returns, and then ends the process.
void on_interrupt(int signal) {
  const int saved_errno = errno;
  remove_directory();
  raise(signal);
  errno = saved_errno;
}

}  // namespace

RemovedOnInterrupt::RemovedOnInterrupt(const std::string& directory) {
  if (directory.size() >= sizeof g_directory) return;
  std::memcpy(g_directory, directory.c_str(), directory.size() + 1);
  struct sigaction remove {};
  remove.sa_handler = on_interrupt;
  remove.sa_flags = SA_RESETHAND;
  sigemptyset(&remove.sa_mask);
  for (size_t i = 0; i < std::size(kSignals); ++i) {
    if (sigaction(kSignals[i], nullptr, &previous_[i]) != 0 || previous_[i].sa_handler != SIG_DFL) continue;
    installed_[i] = sigaction(kSignals[i], &remove, nullptr) == 0;
  }
}

RemovedOnInterrupt::~RemovedOnInterrupt() {
  for (size_t i = 0; i < std::size(kSignals); ++i)
    if (installed_[i]) sigaction(kSignals[i], &previous_[i], nullptr);
}

}  // namespace nantrack
