// Decoding one record's payload (layouts: tracker/trace_format.h) into the
// report's types, checking every length, count and enum value on the way.
// The trace reader (report/trace_reader.cpp) is the only user; it knows which
// record a payload is and adds that to any complaint.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "report/trace.h"

namespace nantrack::trace_payload {

// Why bytes cannot be read, as a bare reason ("claims 5 frames but has 8
// bytes"): the trace reader puts "record N (Type)" and the path before it.
class Malformed : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

template <typename... Args>
[[noreturn]] void malformed(fmt::format_string<Args...> format, Args&&... args) {
  throw Malformed(fmt::format(format, std::forward<Args>(args)...));
}

// The format is little-endian and PayloadReader copies fields out as they are.
static_assert(std::endian::native == std::endian::little, "the trace reader assumes a little-endian host");

// Bounds-checked reads of one record's payload, front to back.
class PayloadReader {
 public:
  explicit PayloadReader(std::span<const uint8_t> bytes) : bytes_(bytes) {}

  size_t remaining() const { return bytes_.size(); }

  template <typename T>
  T read() {
    T value;
    std::memcpy(&value, take(sizeof(T)).data(), sizeof(T));
    return value;
  }

  std::string read_string() {
    const uint32_t length = read<uint32_t>();
    if (length > remaining()) {
      malformed("has a string of {} bytes but only {} bytes left", length, remaining());
    }
    const auto chars = take(length);
    return std::string(chars.begin(), chars.end());
  }

  // For fixed-size records: a wrong size says more than a failed field read.
  void expect_size(size_t size) const {
    if (remaining() != size) malformed("has {} bytes, expected {}", remaining(), size);
  }

  // A count must agree with the payload that follows before anything is
  // allocated for it, or a corrupt count would reserve gigabytes.
  void expect_items(uint64_t count, size_t item_size, std::string_view items) const {
    if (count * item_size != remaining()) {
      malformed("claims {} {} but has {} bytes", count, items, remaining());
    }
  }

  void expect_consumed() const {
    if (remaining() != 0) malformed("has {} bytes after its last field", remaining());
  }

 private:
  std::span<const uint8_t> take(size_t count) {
    if (count > remaining()) malformed("ends in the middle of a field");
    const auto taken = bytes_.first(count);
    bytes_ = bytes_.subspan(count);
    return taken;
  }

  std::span<const uint8_t> bytes_;
};

// Each reads a whole payload of its record type and checks that nothing is
// left over.
ProcessInfo read_process(PayloadReader& in);
Module read_module(PayloadReader& in);
std::pair<StackId, Stack> read_stack(PayloadReader& in);
ErrorEvent read_error(PayloadReader& in);
Counters read_counters(PayloadReader& in);
SnapshotInfo read_snapshot(PayloadReader& in);
// Appends the blocks of one LiveBlocks record.
void read_live_blocks(PayloadReader& in, std::vector<LiveBlock>& blocks);
// One LiveBlockEntry: part of a LiveBlocks payload, or all of a LateAllocation one.
LiveBlock read_live_block(PayloadReader& in);

}  // namespace nantrack::trace_payload
