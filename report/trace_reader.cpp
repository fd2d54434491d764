#include "report/trace_reader.h"

#include <algorithm>
#include <cstring>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "report/trace_payload.h"
#include "report/untrusted_file.h"
#include "tracker/reachability.h"
#include "tracker/trace_format.h"

namespace nantrack {
namespace {

namespace tf = trace_format;

namespace payload = trace_payload;
using payload::Malformed;
using payload::malformed;
using payload::PayloadReader;

// A file cut short is the one corruption with a usual cause worth naming.
constexpr std::string_view kCutShortHint = "(was the process killed with SIGKILL?)";

[[noreturn]] void truncated(size_t have, size_t need) {
  malformed("truncated after {} of {} bytes {}", have, need, kCutShortHint);
}

// ---- Reading the file -------------------------------------------------------

std::vector<uint8_t> read_file(const std::string& path) {
  try {
    return read_untrusted_file(path);
  } catch (const UntrustedFileError& error) {
    malformed("{}", error.what());
  }
}

// ---- Assembling the trace ---------------------------------------------------

std::string record_name(uint32_t type) {
  switch (static_cast<tf::RecordType>(type)) {
    case tf::RecordType::Process: return "Process";
    case tf::RecordType::Module: return "Module";
    case tf::RecordType::Stack: return "Stack";
    case tf::RecordType::LiveBlocks: return "LiveBlocks";
    case tf::RecordType::Error: return "Error";
    case tf::RecordType::ErrorRepeats: return "ErrorRepeats";
    case tf::RecordType::Counters: return "Counters";
    case tf::RecordType::End: return "End";
    case tf::RecordType::LateAllocation: return "LateAllocation";
    case tf::RecordType::LateFree: return "LateFree";
    case tf::RecordType::Snapshot: return "Snapshot";
    case tf::RecordType::LiveBlocksUnknown: return "LiveBlocksUnknown";
  }
  return fmt::format("type {}", type);
}

// Applies LateAllocation and LateFree records to the snapshot's live blocks.
// The address index is built at the first late record, so the common trace
// without any pays nothing for it.
class LateBlocks {
 public:
  explicit LateBlocks(Trace& trace) : trace_(trace) {}

  void allocate(const LiveBlock& block) {
    build_index();
    // An address still live here was freed without a record; the new block replaces it.
    if (const auto old = index_.find(block.address); old != index_.end()) freed_[old->second] = true;
    index_[block.address] = trace_.live_blocks.size();
    trace_.live_blocks.push_back(block);
    freed_.push_back(false);
    ++trace_.counters.allocations;
    trace_.counters.bytes_allocated += block.size;
  }

  void free(uint64_t address) {
    build_index();
    const auto found = index_.find(address);
    if (found == index_.end()) return;  // allocated before tracking began: not ours to count
    freed_[found->second] = true;
    index_.erase(found);
    ++trace_.counters.frees;
  }

  // Drops the freed blocks, keeping the others in file order, and counts
  // the late ones left that the tracker wrote as reachable without a check.
  void finish() {
    if (!indexed_) return;
    std::vector<LiveBlock>& blocks = trace_.live_blocks;
    size_t kept = 0;
    for (size_t i = 0; i < blocks.size(); ++i) {
      if (freed_[i]) continue;
      if (i >= first_late_ && blocks[i].leak_kind == static_cast<uint8_t>(LeakClass::Reachable)) {
        ++trace_.process.unchecked_late_blocks;
        trace_.process.unchecked_late_bytes += blocks[i].size;
      }
      blocks[kept++] = blocks[i];
    }
    blocks.resize(kept);
  }

 private:
  void build_index() {
    if (indexed_) return;
    indexed_ = true;
    index_.reserve(trace_.live_blocks.size());
    for (size_t i = 0; i < trace_.live_blocks.size(); ++i) index_[trace_.live_blocks[i].address] = i;
    freed_.assign(trace_.live_blocks.size(), false);
    first_late_ = trace_.live_blocks.size();
  }

  Trace& trace_;
  bool indexed_ = false;
  size_t first_late_ = 0;  // live_blocks from here came in late records
  std::unordered_map<uint64_t, size_t> index_;  // live address -> position in live_blocks
  std::vector<bool> freed_;                     // parallel to live_blocks
};

class TraceParser {
 public:
  TraceParser(std::span<const uint8_t> file, const std::string& path) : file_(file) { trace_.path = path; }

  Trace parse() && {
    read_records(read_header());
    if (!seen_end_) {
      malformed("truncated after {} bytes: no End record {}", file_.size(), kCutShortHint);
    }
    if (!seen_process_) malformed("no Process record");
    if (!seen_counters_) malformed("no Counters record");
    late_blocks_.finish();
    check_stack_references();
    return std::move(trace_);
  }

 private:
  // Returns where the first record starts.
  size_t read_header() const {
    if (file_.empty()) malformed("empty file");
    const size_t magic_bytes = std::min(file_.size(), sizeof tf::kMagic);
    if (std::memcmp(file_.data(), tf::kMagic, magic_bytes) != 0)
      malformed("not a nantrack trace (bad magic)");
    if (file_.size() < sizeof(tf::FileHeader)) truncated(file_.size(), sizeof(tf::FileHeader));
    tf::FileHeader header;
    std::memcpy(&header, file_.data(), sizeof header);
    if (header.version < tf::kOldestReadableVersion || header.version > tf::kFormatVersion) {
      malformed("format version {} is not supported (this nantrack reads versions {} to {})", header.version,
                tf::kOldestReadableVersion, tf::kFormatVersion);
    }
    if (header.header_size != sizeof header) {
      malformed("header size is {}, format version {} has {}", header.header_size, header.version,
                sizeof header);
    }
    return sizeof header;
  }

  void read_records(size_t offset) {
    for (uint64_t number = 1; offset < file_.size(); ++number) {
      const size_t payload_offset = offset + sizeof(tf::RecordHeader);
      if (payload_offset > file_.size()) truncated(file_.size(), payload_offset);
      tf::RecordHeader header;
      std::memcpy(&header, file_.data() + offset, sizeof header);
      if (header.size > tf::kMaxRecordSize) {
        malformed("record {} ({}) claims {} bytes, more than the {} a record may have", number,
                  record_name(header.type), header.size, tf::kMaxRecordSize);
      }
      const size_t end = payload_offset + header.size;
      if (end > file_.size()) truncated(file_.size(), end);
      try {
        PayloadReader payload(file_.subspan(payload_offset, header.size));
        apply(static_cast<tf::RecordType>(header.type), payload);
      } catch (const Malformed& error) {
        malformed("record {} ({}) {}", number, record_name(header.type), error.what());
      }
      offset = end;
    }
  }

  void apply(tf::RecordType type, PayloadReader& in) {
    check_order(type);
    switch (type) {
      case tf::RecordType::Process:
        trace_.process = payload::read_process(in);
        seen_process_ = true;
        break;
      case tf::RecordType::Module: trace_.modules.push_back(payload::read_module(in)); break;
      case tf::RecordType::Stack: add_stack(payload::read_stack(in)); break;
      case tf::RecordType::LiveBlocks: payload::read_live_blocks(in, trace_.live_blocks); break;
      case tf::RecordType::Error: trace_.errors.push_back(payload::read_error(in)); break;
      case tf::RecordType::ErrorRepeats: add_repeats(in); break;
      case tf::RecordType::Counters:
        trace_.counters = payload::read_counters(in);
        seen_counters_ = true;
        break;
      case tf::RecordType::End:
        in.expect_size(0);
        seen_end_ = true;
        break;
      case tf::RecordType::LateAllocation:
        in.expect_size(tf::kLiveBlockEntrySize);
        late_blocks_.allocate(payload::read_live_block(in));
        break;
      case tf::RecordType::LateFree:
        in.expect_size(sizeof(uint64_t));
        late_blocks_.free(in.read<uint64_t>());
        break;
      case tf::RecordType::Snapshot: trace_.process.snapshot = payload::read_snapshot(in); break;
      case tf::RecordType::LiveBlocksUnknown:
        in.expect_size(0);
        trace_.process.live_blocks_unknown = true;
        break;
    }
    // Any other type is skipped: a newer writer may add record types.
  }

  // The snapshot comes before End and only late records after it; anything
  // else means a corrupted type field or two traces run together.
  void check_order(tf::RecordType type) const {
    using enum tf::RecordType;
    const bool snapshot_only = type == Process || type == Snapshot || type == Module || type == LiveBlocks ||
                               type == LiveBlocksUnknown || type == Counters || type == End;
    const bool late_only = type == LateAllocation || type == LateFree;
    if (seen_end_ && snapshot_only) malformed("comes after the End record");
    if (!seen_end_ && late_only) malformed("comes before the End record");
    if ((type == Process && seen_process_) || (type == Counters && seen_counters_) ||
        (type == Snapshot && trace_.process.snapshot)) {
      malformed("appears a second time");
    }
    // It completes the Process record.
    if (type == Snapshot && !seen_process_) malformed("comes before the Process record");
  }

  // Repeats of an error read before: its count grows, without overflowing.
  void add_repeats(PayloadReader& in) {
    in.expect_size(tf::kErrorRepeatsSize);
    const uint32_t index = in.read<uint32_t>();
    const uint64_t more = in.read<uint64_t>();
    if (index >= trace_.errors.size())
      malformed("counts repeats of error {}, but the trace has {} before it", index + 1, trace_.errors.size());
    uint64_t& occurrences = trace_.errors[index].occurrences;
    if (__builtin_add_overflow(occurrences, more, &occurrences)) occurrences = UINT64_MAX;
  }

  // A writer may write the same stack twice; only a different stack under
  // the same id is corrupt.
  void add_stack(std::pair<StackId, Stack> stack) {
    const auto [existing, added] = trace_.stacks.try_emplace(stack.first, std::move(stack.second));
    if (!added && existing->second != stack.second) {
      malformed("redefines stack {} with different frames", stack.first);
    }
  }

  // Checked once everything is read: a late record may name a stack that
  // only a later Stack record brings.
  void check_stack_references() const {
    const auto known = [this](StackId id) { return id == tf::kNoStack || trace_.stacks.contains(id); };
    for (const LiveBlock& block : trace_.live_blocks) {
      if (!known(block.stack))
        missing_stack(fmt::format("the live block at {:#x}", block.address), block.stack);
    }
    for (size_t i = 0; i < trace_.errors.size(); ++i) {
      const ErrorEvent& error = trace_.errors[i];
      for (const StackId id : {error.stack, error.alloc_stack, error.free_stack}) {
        if (!known(id)) {
          missing_stack(fmt::format("error {} ({} at {:#x})", i + 1, name_of(error.kind), error.address), id);
        }
      }
    }
  }

  [[noreturn]] static void missing_stack(const std::string& referrer, StackId id) {
    malformed("{} refers to stack {}, which the trace does not contain", referrer, id);
  }

  std::span<const uint8_t> file_;
  Trace trace_;
  LateBlocks late_blocks_{trace_};
  bool seen_process_ = false;
  bool seen_counters_ = false;
  bool seen_end_ = false;
};

// Runs `load`, turning the reason it gives up into the one user-facing message.
template <typename Load>
Trace load_reporting_errors(const std::string& path, Load&& load) {
  try {
    return load();
  } catch (const Malformed& error) {
    throw TraceError(fmt::format("cannot read trace '{}': {}", path, error.what()));
  }
}

}  // namespace

Trace parse_trace(std::span<const uint8_t> bytes, const std::string& path) {
  return load_reporting_errors(path, [&] { return TraceParser(bytes, path).parse(); });
}

Trace read_trace(const std::string& path) {
  return load_reporting_errors(path, [&] {
    const std::vector<uint8_t> bytes = read_file(path);
    return TraceParser(bytes, path).parse();
  });
}

}  // namespace nantrack
