#include "cli/removed_on_interrupt.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstring>
#include <iterator>

namespace nantrack {
namespace {

constexpr int kSignals[] = {SIGINT, SIGTERM, SIGHUP};

// The paths the handler removes. A slot is filled before it is marked in
// use, and unmarked before it is reused: the handler, which may run at any
// point in between, sees either nothing or a whole path.
struct Slot {
  char path[PATH_MAX];
  RemovedOnInterrupt::Kind kind;
  volatile sig_atomic_t in_use;
};
Slot g_slots[RemovedOnInterrupt::kMaxPaths];
int g_holders = 0;  // living RemovedOnInterrupt objects, with a slot or not
struct sigaction g_previous[std::size(kSignals)];
bool g_installed[std::size(kSignals)];

// What getdents64 fills its buffer with (the kernel's struct linux_dirent64).
struct DirectoryEntry {
  uint64_t inode;
  int64_t next;
  unsigned short length;
  unsigned char type;
  char name[];
};

// Removes the files of `path`, then the directory itself. System calls
// only: it runs in a signal handler. Entries are removed while they are
// listed, which may skip some: the listing is read again from the start
// until a pass removes nothing.
void remove_directory(const char* path) {
  const int directory = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
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
  rmdir(path);
}

// SA_RESETHAND has put the default action back: raised again, the signal
// is held until the handler returns, and then ends the process.
void on_interrupt(int signal) {
  const int saved_errno = errno;
  for (const Slot& slot : g_slots) {
    if (!slot.in_use) continue;
    if (slot.kind == RemovedOnInterrupt::Kind::Directory)
      remove_directory(slot.path);
    else
      unlink(slot.path);
  }
  raise(signal);
  errno = saved_errno;
}

void install_handlers() {
  struct sigaction remove {};
  remove.sa_handler = on_interrupt;
  remove.sa_flags = SA_RESETHAND;
  sigemptyset(&remove.sa_mask);
  for (size_t i = 0; i < std::size(kSignals); ++i) {
    g_installed[i] = false;
    if (sigaction(kSignals[i], nullptr, &g_previous[i]) != 0 || g_previous[i].sa_handler != SIG_DFL) continue;
    g_installed[i] = sigaction(kSignals[i], &remove, nullptr) == 0;
  }
}

void restore_handlers() {
  for (size_t i = 0; i < std::size(kSignals); ++i)
    if (g_installed[i]) sigaction(kSignals[i], &g_previous[i], nullptr);
}

}  // namespace

RemovedOnInterrupt::RemovedOnInterrupt(const std::string& path, Kind kind) {
  if (g_holders++ == 0) install_handlers();
  if (path.size() >= sizeof(Slot::path)) return;
  for (int i = 0; i < kMaxPaths; ++i) {
    Slot& slot = g_slots[i];
    if (slot.in_use) continue;
    std::memcpy(slot.path, path.c_str(), path.size() + 1);
    slot.kind = kind;
    std::atomic_signal_fence(std::memory_order_seq_cst);
    slot.in_use = 1;
    slot_ = i;
    return;
  }
}

RemovedOnInterrupt::~RemovedOnInterrupt() {
  if (slot_ >= 0) g_slots[slot_].in_use = 0;
  std::atomic_signal_fence(std::memory_order_seq_cst);
  if (--g_holders == 0) restore_handlers();
}

}  // namespace nantrack
