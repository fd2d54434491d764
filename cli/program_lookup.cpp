#include "cli/program_lookup.h"

#include <elf.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

#include <fmt/format.h>

namespace nantrack {
namespace {

// True if the ELF file has a program interpreter (is dynamically linked).
// Non-ELF files (scripts) are run by an interpreter that we do trace.
std::optional<std::string> why_untraceable(const std::string& path) {
  struct stat info{};
  if (stat(path.c_str(), &info) == 0 && (info.st_mode & (S_ISUID | S_ISGID)) && getuid() != 0)
    return "it is set-user-ID or set-group-ID, so the dynamic loader ignores LD_PRELOAD";
  std::ifstream file(path, std::ios::binary);
  Elf64_Ehdr header{};
  if (!file.read(reinterpret_cast<char*>(&header), sizeof(header))) return std::nullopt;
  if (std::memcmp(header.e_ident, ELFMAG, SELFMAG) != 0 || header.e_ident[EI_CLASS] != ELFCLASS64)
    return std::nullopt;
  for (unsigned i = 0; i < header.e_phnum && i < 256; ++i) {
    Elf64_Phdr phdr{};
    file.seekg(static_cast<std::streamoff>(header.e_phoff + uint64_t{i} * header.e_phentsize));
    if (!file.read(reinterpret_cast<char*>(&phdr), sizeof(phdr))) return std::nullopt;
    if (phdr.p_type == PT_INTERP) return std::nullopt;
  }
  return "it is statically linked, so nothing can be preloaded into it";
}

ProgramLookup runnable(const std::string& path) {
  ProgramLookup found;
  found.path = path;
  found.untraceable = why_untraceable(path);
  return found;
}

ProgramLookup failure(const std::string& name, int shell_status, const std::string& why) {
  ProgramLookup lookup;
  lookup.shell_status = shell_status;
  lookup.problem = fmt::format("cannot run '{}': {}", name, why);
  return lookup;
}

// What exec would say about one candidate path: 0 if it can run.
int check(const std::string& path) {
  struct stat info{};
  if (stat(path.c_str(), &info) != 0) return errno;
  if (S_ISDIR(info.st_mode)) return EISDIR;
  if (access(path.c_str(), X_OK) != 0) return EACCES;
  return 0;
}

}  // namespace

ProgramLookup find_program(const std::string& name) {
  if (name.empty()) return failure(name, 127, "empty program name");
  if (name.find('/') != std::string::npos) {
    int error = check(name);
    if (error == 0) return runnable(name);
    return failure(name, error == ENOENT || error == ENOTDIR ? 127 : 126, std::strerror(error));
  }
  const char* path_variable = std::getenv("PATH");
  std::stringstream directories(path_variable ? path_variable : "/usr/local/bin:/usr/bin:/bin");
  int first_error = ENOENT;
  for (std::string directory; std::getline(directories, directory, ':');) {
    std::string candidate = (directory.empty() ? "." : directory) + "/" + name;
    int error = check(candidate);
    if (error == 0) return runnable(candidate);
    if (error != ENOENT && error != ENOTDIR && first_error == ENOENT) first_error = error;
  }
  if (first_error == ENOENT) return failure(name, 127, "command not found in PATH");
  return failure(name, 126, std::strerror(first_error));
}

}  // namespace nantrack
