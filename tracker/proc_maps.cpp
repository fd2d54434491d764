#include "tracker/proc_maps.h"

#include <fcntl.h>
#include <unistd.h>

#include "tracker/text_buffer.h"

namespace nantrack {
namespace {

// The text up to the next space of `line`, which then starts after it.
std::string_view take_field(std::string_view& line) {
  const size_t start = line.find_first_not_of(' ');
  if (start == std::string_view::npos) {
    line = {};
    return {};
  }
  line.remove_prefix(start);
  const size_t end = std::min(line.find(' '), line.size());
  const std::string_view field(line.data(), end);
  line.remove_prefix(end);
  return field;
}

// `text` from `at` on (empty past its end). string_view::substr would do,
// but it may throw, and that brings libstdc++ into every traced process
// (tracker/CMakeLists.txt).
std::string_view from(std::string_view text, size_t at) {
  return at < text.size() ? std::string_view(text.data() + at, text.size() - at) : std::string_view{};
}

uintptr_t hex_value(std::string_view text) {
  uintptr_t value = 0;
  for (char c : text) {
    const int digit = hex_digit_value(c);
    if (digit < 0) break;
    value = value * 16 + static_cast<uintptr_t>(digit);
  }
  return value;
}

}  // namespace

ProcMaps::ProcMaps() : fd_(open("/proc/self/maps", O_RDONLY | O_CLOEXEC)) {}

ProcMaps::~ProcMaps() {
  if (fd_ >= 0) close(fd_);
}

int ProcMaps::next_byte() {
  if (at_ == filled_) {
    if (fd_ < 0) return -1;
    const ssize_t got = read(fd_, buffer_, sizeof(buffer_));
    if (got <= 0) return -1;
    filled_ = static_cast<size_t>(got);
    at_ = 0;
  }
  return static_cast<unsigned char>(buffer_[at_++]);
}

// A line: "start-end perms offset device inode   name".
bool ProcMaps::next(Mapping& mapping) {
  size_t length = 0;
  int c;
  while ((c = next_byte()) >= 0 && c != '\n')
    if (length < sizeof(line_)) line_[length++] = static_cast<char>(c);
  if (c < 0 && length == 0) return false;
  std::string_view line(line_, length);
  const std::string_view range = take_field(line);
  const size_t dash = range.find('-');
  const std::string_view perms = take_field(line);
  for (int skipped = 0; skipped < 3; ++skipped) take_field(line);  // offset, device, inode
  const size_t name = line.find_first_not_of(' ');
  mapping.start = hex_value(range);  // up to the dash
  mapping.end = dash == std::string_view::npos ? 0 : hex_value(from(range, dash + 1));
  mapping.readable = perms.size() > 0 && perms[0] == 'r';
  mapping.writable = perms.size() > 1 && perms[1] == 'w';
  mapping.name = name == std::string_view::npos ? std::string_view{} : from(line, name);
  return true;
}

}  // namespace nantrack
