// A fixed-size text builder that never allocates and is async-signal-safe:
// the tracker formats stderr messages and file paths with it, from inside
// malloc or a fatal-signal handler where stdio and snprintf are off limits.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace nantrack {

class TextBuffer {
 public:
  TextBuffer(char* storage, size_t capacity) : data_(storage), capacity_(capacity) { terminate(); }

  TextBuffer& operator<<(std::string_view text);
  TextBuffer& operator<<(char c) { return *this << std::string_view(&c, 1); }
  TextBuffer& operator<<(const char* text) { return *this << std::string_view(text ? text : "(null)"); }
  TextBuffer& operator<<(uint64_t value) { return decimal(value); }
  TextBuffer& operator<<(int64_t value);
  TextBuffer& operator<<(unsigned value) { return decimal(value); }
  TextBuffer& operator<<(int value) { return *this << int64_t{value}; }
  TextBuffer& decimal(uint64_t value);
  TextBuffer& hex(uint64_t value);  // 0x-prefixed, lower case
  // Decimal with thousands separators: "3,072".
  TextBuffer& grouped(uint64_t value);

  std::string_view view() const { return {data_, size_}; }
  const char* c_str() const { return data_; }
  size_t size() const { return size_; }
  bool truncated() const { return truncated_; }
  void clear() { size_ = 0; truncated_ = false; terminate(); }

 private:
  void terminate() { if (capacity_) data_[size_ < capacity_ ? size_ : capacity_ - 1] = '\0'; }

  char* data_;
  size_t capacity_;
  size_t size_ = 0;
  bool truncated_ = false;
};

// A TextBuffer with its storage inline, for the stack.
template <size_t N>
class InlineText : public TextBuffer {
 public:
  InlineText() : TextBuffer(storage_, N) {}

 private:
  char storage_[N];
};

// The value of a lowercase hex digit, as /proc writes them (the reverse of
// TextBuffer::hex()); -1 for any other character.
constexpr int hex_digit_value(char c) {
  return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

// write(2) all of `text` to fd, retrying on EINTR and short writes; keeps
// errno. A broken pipe or the file-size limit makes it fail, not the
// program die (no SIGPIPE, no SIGXFSZ).
bool write_all(int fd, std::string_view text);
// The same, answering 0 or the errno of the write that failed.
int write_all_or_error(int fd, std::string_view text);

}  // namespace nantrack
