// Reading a file named by the user (a trace, a suppressions file) whole,
// as untrusted input: a FIFO is not waited on and a device is not read for
// ever, because only a regular file is read; a file larger than asked for
// is refused before it is read.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace nantrack {

// Why the file could not be read, in a few words ("no such file", "not a
// regular file", ...).
class UntrustedFileError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

std::vector<uint8_t> read_untrusted_file(const std::string& path, size_t max_bytes = SIZE_MAX);

}  // namespace nantrack
