// Writes trace records (layout: trace_format.h) with plain write(2) from a
// fixed buffer: no malloc, no stdio, so it also works from a fatal-signal
// handler and after libc has started tearing itself down.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "tracker/file_identity.h"
#include "tracker/trace_format.h"

namespace nantrack {

class TraceWriter {
 public:
  // Every record must fit in half the buffer; callers chunk large data.
  static constexpr size_t kBufferSize = 256 * 1024;
  static constexpr size_t kMaxRecord = kBufferSize / 2;

  constexpr TraceWriter() = default;
  TraceWriter(const TraceWriter&) = delete;
  TraceWriter& operator=(const TraceWriter&) = delete;

  // Creates (truncates) the file and writes the file header. On failure
  // returns false with errno set.
  bool open(const char* path);
  bool is_open() const { return fd_ >= 0; }
  // Moves the descriptor to a high number, out of the way of a program
  // that counts on which numbers its own opens get (a trace opened long
  // before the end, tracker.h's open_trace_early).
  void move_descriptor_up();
  // Whether the descriptor still holds the file open() made: a trace
  // opened long before the end (tracker.h, open_trace_early) may have been
  // closed by the program, its number reused for a file of its own.
  bool holds_its_file() const;
  void close();
  // Stops writing without flushing: for a forked child holding a copy of
  // its parent's open trace.
  void abandon() { fd_ = -1; used_ = 0; }

  void begin(trace_format::RecordType type);
  void put_u8(uint8_t value) { put_bytes(&value, 1); }
  void put_u32(uint32_t value) { put_bytes(&value, 4); }
  void put_u64(uint64_t value) { put_bytes(&value, 8); }
  void put_i32(int32_t value) { put_bytes(&value, 4); }
  void put_i64(int64_t value) { put_bytes(&value, 8); }
  void put_string(std::string_view text);
  void put_bytes(const void* data, size_t size);
  // Overwrites the record's first payload word: a count known only at the end.
  void set_leading_u32(uint32_t value);
  void end();

  // Pushes buffered records to the file. False if a write failed (disk
  // full, past the file-size limit: EFBIG, without the SIGXFSZ that would
  // kill the program, see write_all_or_error); the file is then
  // incomplete, and readers will say so. After a failure nothing more is
  // written: a short trace is better than one with a hole.
  bool flush();
  bool failed() const { return failed_; }
  // The errno of the first write that failed.
  int error() const { return error_; }

 private:
  int fd_ = -1;
  FileIdentity file_;  // the one open() made
  bool failed_ = false;
  int error_ = 0;
  size_t used_ = 0;
  size_t record_start_ = 0;
  char buffer_[kBufferSize] = {};
};

}  // namespace nantrack
