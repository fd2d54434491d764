// Which file a descriptor holds (device and inode): how nantrack tells
// that a descriptor it uses (stderr, an early trace) still holds the file
// it had, after the program may have closed it and opened another on the
// same number.
#pragma once

#include <sys/stat.h>

#include <cstdint>

namespace nantrack {

struct FileIdentity {
  uint64_t device = 0;
  uint64_t inode = 0;
  bool known = false;  // false: no file (a closed descriptor)

  // Async-signal-safe (one fstat).
  static FileIdentity of(int fd) {
    struct stat status;
    if (fstat(fd, &status) != 0) return {};
    return {status.st_dev, status.st_ino, true};
  }
  bool same_as(const FileIdentity& other) const {
    return known && other.known && device == other.device && inode == other.inode;
  }
};

}  // namespace nantrack
