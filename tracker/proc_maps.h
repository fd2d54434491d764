// This process's mappings, as /proc/self/maps lists them, read line by line
// through fixed buffers: the leak scan reads them with other threads
// stopped, where it may not call malloc.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace nantrack {

struct Mapping {
  uintptr_t start = 0;
  uintptr_t end = 0;
  bool readable = false;
  bool writable = false;
  // The path, or [heap], [stack], [anon:NAME] ...; empty for anonymous
  // memory. A long path is cut short.
  std::string_view name;
};

class ProcMaps {
 public:
  ProcMaps();  // opens /proc/self/maps; every next() is false if it cannot
  ~ProcMaps();
  ProcMaps(const ProcMaps&) = delete;
  ProcMaps& operator=(const ProcMaps&) = delete;

  // The next mapping, in address order; false at the end. `mapping.name`
  // stays valid until the next call.
  bool next(Mapping& mapping);

 private:
  // The next byte of the file, or -1 at its end.
  int next_byte();

  int fd_ = -1;
  char buffer_[4096];
  size_t filled_ = 0;
  size_t at_ = 0;
  char line_[512];  // the current line; a longer one is cut short
};

}  // namespace nantrack
