#include "cli/library_path.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <stdexcept>

#include <fmt/format.h>

namespace nantrack {

std::string find_library() {
  namespace fs = std::filesystem;
  if (const char* configured = std::getenv("NANTRACK_LIBRARY"); configured && *configured) {
    if (access(configured, R_OK) != 0)
      throw std::runtime_error(fmt::format("NANTRACK_LIBRARY names '{}', which cannot be read", configured));
    return fs::absolute(configured).string();
  }
  std::error_code error;
  fs::path self = fs::read_symlink("/proc/self/exe", error);
  fs::path beside = self.parent_path().parent_path() / "lib" / "libnantrack.so";
  if (!error && access(beside.c_str(), R_OK) == 0) return beside.string();
  throw std::runtime_error(
      fmt::format("cannot find libnantrack.so at '{}' (set NANTRACK_LIBRARY to its path)", beside.string()));
}

}  // namespace nantrack
