#include "tracker/trace_writer.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "tracker/text_buffer.h"

namespace nantrack {

using trace_format::RecordHeader;

namespace {

// A program that used every descriptor its limit allows (one that leaks
// them, or tests how it copes) would lose its trace. The limit is raised by
// one for this open and put back, which leaves the new descriptor valid:
// the soft limit when it is below the hard one, else both, which root
// (CAP_SYS_RESOURCE, as in most CI containers) may do.
int open_beyond_limit(const char* path, int flags, mode_t mode) {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return -1;
  rlimit raised = limit;
  raised.rlim_cur = limit.rlim_cur + 1;
  if (raised.rlim_max < raised.rlim_cur) raised.rlim_max = raised.rlim_cur;
  if (setrlimit(RLIMIT_NOFILE, &raised) != 0) return -1;
  const int fd = ::open(path, flags, mode);
  const int saved_errno = errno;
  setrlimit(RLIMIT_NOFILE, &limit);
  errno = saved_errno;
  return fd;
}

}  // namespace

bool TraceWriter::open(const char* path) {
  constexpr int kFlags = O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC;
  fd_ = ::open(path, kFlags, 0644);
  if (fd_ < 0 && errno == EMFILE) {
    const int saved_errno = errno;
    fd_ = open_beyond_limit(path, kFlags, 0644);
    if (fd_ < 0) errno = saved_errno;
  }
  if (fd_ < 0) return false;
  file_ = FileIdentity::of(fd_);
  failed_ = false;
  error_ = 0;
  used_ = 0;
  trace_format::FileHeader header{};
  std::memcpy(header.magic, trace_format::kMagic, sizeof(header.magic));
  header.version = trace_format::kFormatVersion;
  header.header_size = sizeof(header);
  put_bytes(&header, sizeof(header));
  return true;
}

void TraceWriter::move_descriptor_up() {
  // Not near the limit (a program may use it all) nor far up (the
  // kernel's table of descriptors would grow to match).
  constexpr rlim_t kHighest = 512;
  struct rlimit limit {};
  if (fd_ < 0 || getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
  const rlim_t wanted = limit.rlim_cur / 2 < kHighest ? limit.rlim_cur / 2 : kHighest;
  if (wanted <= static_cast<rlim_t>(fd_)) return;
  const int moved = fcntl(fd_, F_DUPFD_CLOEXEC, static_cast<int>(wanted));
  if (moved < 0) return;
  ::close(fd_);
  fd_ = moved;
}

bool TraceWriter::holds_its_file() const { return fd_ >= 0 && FileIdentity::of(fd_).same_as(file_); }

void TraceWriter::close() {
  if (fd_ < 0) return;
  flush();
  ::close(fd_);
  fd_ = -1;
}

void TraceWriter::begin(trace_format::RecordType type) {
  if (used_ > kBufferSize - kMaxRecord) flush();
  record_start_ = used_;
  RecordHeader header{static_cast<uint32_t>(type), 0};
  put_bytes(&header, sizeof(header));
}

void TraceWriter::put_string(std::string_view text) {
  put_u32(static_cast<uint32_t>(text.size()));
  put_bytes(text.data(), text.size());
}

void TraceWriter::put_bytes(const void* data, size_t size) {
  // A record that outgrows its share of the buffer is a bug in the caller;
  // dropping the excess keeps the file readable (the reader will reject
  // that one record) instead of overrunning memory.
  if (used_ + size > kBufferSize) {
    failed_ = true;
    return;
  }
  std::memcpy(buffer_ + used_, data, size);
  used_ += size;
}

void TraceWriter::set_leading_u32(uint32_t value) {
  size_t at = record_start_ + sizeof(RecordHeader);
  if (at + sizeof(value) <= used_) std::memcpy(buffer_ + at, &value, sizeof(value));
}

void TraceWriter::end() {
  uint32_t payload = static_cast<uint32_t>(used_ - record_start_ - sizeof(RecordHeader));
  std::memcpy(buffer_ + record_start_ + offsetof(RecordHeader, size), &payload, sizeof(payload));
}

bool TraceWriter::flush() {
  if (fd_ >= 0 && used_ && !failed_) {
    error_ = write_all_or_error(fd_, {buffer_, used_});
    failed_ = error_ != 0;
  }
  used_ = 0;
  return !failed_;
}

}  // namespace nantrack
