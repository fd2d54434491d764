#include "tracker/text_buffer.h"

#include <signal.h>

#include <cerrno>
#include <unistd.h>

#include "tracker/sandbox.h"

namespace nantrack {

TextBuffer& TextBuffer::operator<<(std::string_view text) {
  if (capacity_ == 0) return *this;
  size_t room = capacity_ - 1 - size_;
  size_t n = text.size() < room ? text.size() : room;
  for (size_t i = 0; i < n; ++i) data_[size_ + i] = text[i];
  size_ += n;
  truncated_ |= n < text.size();
  terminate();
  return *this;
}

TextBuffer& TextBuffer::operator<<(int64_t value) {
  if (value < 0) {
    *this << '-';
    return decimal(uint64_t{0} - static_cast<uint64_t>(value));
  }
  return decimal(static_cast<uint64_t>(value));
}

namespace {
// The decimal digits of value, least significant first; returns the count.
int reversed_digits(uint64_t value, char (&digits)[20]) {
  int n = 0;
  do {
    digits[n++] = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value);
  return n;
}
}  // namespace

TextBuffer& TextBuffer::decimal(uint64_t value) {
  char digits[20];
  for (int n = reversed_digits(value, digits); n;) *this << digits[--n];
  return *this;
}

TextBuffer& TextBuffer::grouped(uint64_t value) {
  char digits[20];
  for (int n = reversed_digits(value, digits); n;) {
    *this << digits[--n];
    if (n && n % 3 == 0) *this << ',';
  }
  return *this;
}

TextBuffer& TextBuffer::hex(uint64_t value) {
  char digits[16];
  int n = 0;
  do {
    digits[n++] = "0123456789abcdef"[value & 0xf];
    value >>= 4;
  } while (value);
  *this << "0x";
  while (n) *this << digits[--n];
  return *this;
}

// Our writes go to stderr (reports, on a pipe whose reader may be gone,
// `prog 2>&1 | head`, or on a file past the file-size limit) and to traces
// (past that limit too). The kernel answers such a write with a signal
// that would kill the program for output that is ours: SIGPIPE, SIGXFSZ.
// Both are blocked in this thread during the writes, which then fail with
// EPIPE or EFBIG, and the signal a failed write left pending is taken back
// (unless it was pending before: that one is the program's).
int write_all_or_error(int fd, std::string_view text) {
  int saved_errno = errno;
  sigset_t ours, previous_mask, pending_before;
  sigemptyset(&ours);
  sigaddset(&ours, SIGPIPE);
  sigaddset(&ours, SIGXFSZ);
  // rt_sigpending is not among the calls a seccomp sandbox allows
  // (sandbox.h); rt_sigprocmask, which glibc itself makes, is.
  if (in_sandbox() || sigpending(&pending_before) != 0) sigemptyset(&pending_before);
  const bool masked = pthread_sigmask(SIG_BLOCK, &ours, &previous_mask) == 0;
  const char* p = text.data();
  size_t left = text.size();
  int error = 0;
  while (left) {
    ssize_t n = write(fd, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      error = n < 0 ? errno : EIO;
      break;
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  if (masked) {
    const int raised = error == EPIPE ? SIGPIPE : error == EFBIG ? SIGXFSZ : 0;
    if (raised && !sigismember(&pending_before, raised)) {
      sigset_t just_that;
      sigemptyset(&just_that);
      sigaddset(&just_that, raised);
      const timespec no_wait{};
      sigtimedwait(&just_that, nullptr, &no_wait);
    }
    pthread_sigmask(SIG_SETMASK, &previous_mask, nullptr);
  }
  errno = saved_errno;
  return error;
}

bool write_all(int fd, std::string_view text) { return write_all_or_error(fd, text) == 0; }

}  // namespace nantrack
