#include "report/untrusted_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace nantrack {
namespace {

class FileDescriptor {
 public:
  explicit FileDescriptor(int fd) : fd_(fd) {}
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  ~FileDescriptor() { ::close(fd_); }
  int get() const { return fd_; }

 private:
  int fd_;
};

[[noreturn]] void fail_with_errno(int error) {
  switch (error) {
    case ENOENT:
    case ENOTDIR: throw UntrustedFileError("no such file");
    case EACCES:
    case EPERM: throw UntrustedFileError("permission denied");
    case EISDIR: throw UntrustedFileError("is a directory");
    default: throw UntrustedFileError(std::strerror(error));
  }
}

}  // namespace

std::vector<uint8_t> read_untrusted_file(const std::string& path, size_t max_bytes) {
  // O_NONBLOCK so that opening a FIFO does not wait for a writer; it has no
  // effect on the regular files we go on to read.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) fail_with_errno(errno);
  const FileDescriptor file(fd);

  struct stat status {};
  if (::fstat(file.get(), &status) != 0) fail_with_errno(errno);
  if (S_ISDIR(status.st_mode)) throw UntrustedFileError("is a directory");
  // Devices and pipes may never end (/dev/zero).
  if (!S_ISREG(status.st_mode)) throw UntrustedFileError("not a regular file");
  const auto size = static_cast<uint64_t>(status.st_size);
  if (size > max_bytes) throw UntrustedFileError(fmt::format("too large ({} bytes; at most {})", size, max_bytes));

  std::vector<uint8_t> bytes(static_cast<size_t>(size));
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t got = ::read(file.get(), bytes.data() + done, bytes.size() - done);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) fail_with_errno(errno);
    if (got == 0) break;  // the file shrank while we read it
    done += static_cast<size_t>(got);
  }
  bytes.resize(done);
  return bytes;
}

}  // namespace nantrack
