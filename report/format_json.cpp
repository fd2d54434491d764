#include "report/format_json.h"

#include <sstream>
#include <string>

#include <fmt/format.h>

#include "report/error_description.h"
#include "report/json_string.h"
#include "version.h"

namespace nantrack {
namespace {

// Builds the document in a buffer handed to the stream a piece at a time.
class JsonReportWriter {
 public:
  explicit JsonReportWriter(std::ostream& out) : out_(out) {}

  void write(const Report& report) {
    text_ += "{\n";
    text_ += fmt::format("  \"tool\": \"nantrack\",\n  \"version\": ");
    append_json_string(text_, kVersion);
    text_ += fmt::format(",\n  \"format_version\": {},\n  \"processes\": [", kJsonFormatVersion);
    for (size_t i = 0; i < report.processes.size(); ++i) {
      text_ += i == 0 ? "\n" : ",\n";
      write_process(report.processes[i]);
    }
    text_ += report.processes.empty() ? "]\n}\n" : "\n  ]\n}\n";
    flush();
  }

 private:
  void write_process(const ProcessReport& report) {
    const ProcessInfo& process = report.process;
    text_ +=
        fmt::format("    {{\n      \"pid\": {},\n      \"ppid\": {},\n      \"argv\": [", process.pid, process.ppid);
    for (size_t i = 0; i < process.argv.size(); ++i) {
      if (i > 0) text_ += ", ";
      append_json_string(text_, process.argv[i]);
    }
    text_ += fmt::format("],\n      \"exit_status\": {},\n      \"signal\": {},\n",
                         process.exit_status ? std::to_string(*process.exit_status) : "null",
                         process.signal != 0 ? std::to_string(process.signal) : "null");
    // Additive to DESIGN.md's schema: which trace this is, and whether its
    // leaks count for the CI gate.
    text_ += process.snapshot ? fmt::format("      \"snapshot\": {{\"sequence\": {}, \"trigger\": \"{}\"}},\n",
                                            process.snapshot->sequence, name_of(process.snapshot->trigger))
                              : "      \"snapshot\": null,\n";
    text_ += fmt::format("      \"leaks_gate\": {},\n", report.leaks_gate);
    write_summary(report.summary);
    text_ += "      \"leaks\": [";
    for (size_t i = 0; i < report.leaks.size(); ++i) {
      const LeakGroup& leak = report.leaks[i];
      text_ += fmt::format("{}\n        {{\"kind\": \"{}\", \"bytes\": {}, \"blocks\": {},\n", i == 0 ? "" : ",",
                           name_of(leak.kind), leak.bytes, leak.blocks);
      write_stack("stack", leak.stack);
      text_ += "}";
      flush_if_big();
    }
    text_ += report.leaks.empty() ? "],\n" : "\n      ],\n";
    text_ += "      \"errors\": [";
    for (size_t i = 0; i < report.errors.size(); ++i) {
      const ErrorFinding& error = report.errors[i];
      text_ += fmt::format("{}\n        {{\"kind\": \"{}\", \"address\": \"{:#x}\", \"size\": {}, \"count\": {},\n",
                           i == 0 ? "" : ",", name_of(error.event.kind), error.event.address, error.event.block_size,
                           error.event.occurrences);
      write_stack("stack", error.stack);
      text_ += ",\n";
      write_stack("alloc_stack", error.alloc_stack);
      text_ += ",\n";
      write_stack("free_stack", error.free_stack);
      text_ += ",\n         \"message\": ";
      append_json_string(text_, describe_error(error.event));
      write_damage(error.event);
      text_ += "}";
    }
    text_ += report.errors.empty() ? "]\n    }" : "\n      ]\n    }";
  }

  void write_summary(const Summary& summary) {
    text_ += fmt::format(
        "      \"summary\": {{\n"
        "        \"leaked_bytes\": {}, \"leaked_blocks\": {},\n"
        "        \"definite_bytes\": {}, \"indirect_bytes\": {}, \"possible_bytes\": {}, \"reachable_bytes\": {},\n"
        "        \"suppressed_bytes\": {},\n"
        "        \"errors\": {{",
        summary.leaked_bytes, summary.leaked_blocks, summary.definite_bytes, summary.indirect_bytes,
        summary.possible_bytes, summary.reachable_bytes, summary.suppressed_bytes);
    for (uint8_t value = 1; value <= kMaxErrorKind; ++value) {
      const auto kind = static_cast<ErrorKind>(value);
      text_ += fmt::format("{}\"{}\": {}", value == 1 ? "" : ", ", name_of(kind), count_of(summary.errors, kind));
    }
    text_ += fmt::format(
        "}},\n"
        "        \"total_allocations\": {}, \"total_frees\": {}, \"total_bytes\": {}, \"peak_bytes\": {}\n"
        "      }},\n",
        summary.total_allocations, summary.total_frees, summary.total_bytes, summary.peak_bytes);
  }

  // What guard bytes or free fill showed: which side of the block (heap
  // overflows only), how many bytes changed and where the first one is
  // (error_description.h says how the offset reads for each side).
  void write_damage(const ErrorEvent& event) {
    if (event.kind != ErrorKind::HeapOverflow && event.kind != ErrorKind::WriteAfterFree) return;
    if (event.kind == ErrorKind::HeapOverflow)
      text_ += fmt::format(", \"side\": \"{}\"", event.overflow_side == OverflowSide::Before ? "before" : "after");
    text_ += fmt::format(", \"bytes_changed\": {}, \"first_changed_offset\": {}", event.bytes_changed,
                         event.first_changed_offset);
  }

  // `"name": [frames]` inside a leak or error object, frames one per line.
  void write_stack(std::string_view name, const SourceStack& stack) {
    text_ += fmt::format("         \"{}\": [", name);
    for (size_t i = 0; i < stack.size(); ++i) {
      const SourceFrame& frame = stack[i];
      text_ += fmt::format("{}\n           {{\"address\": \"{:#x}\", \"function\": ", i == 0 ? "" : ",", frame.address);
      append_json_string(text_, frame.function);
      text_ += ", \"file\": ";
      append_json_string(text_, frame.file);
      text_ += fmt::format(", \"line\": {}, \"module\": ", frame.line);
      append_json_string(text_, frame.module);
      text_ += fmt::format(", \"inlined\": {}}}", frame.inlined);
    }
    text_ += stack.empty() ? "]" : "\n         ]";
  }

  void flush_if_big() {
    constexpr size_t kChunk = 1 << 20;
    if (text_.size() >= kChunk) flush();
  }
  void flush() {
    out_.write(text_.data(), static_cast<std::streamsize>(text_.size()));
    text_.clear();
  }

  std::ostream& out_;
  std::string text_;
};

}  // namespace

void write_json_report(const Report& report, std::ostream& out) { JsonReportWriter(out).write(report); }

nlohmann::json report_to_json(const Report& report) {
  std::ostringstream text;
  write_json_report(report, text);
  return nlohmann::json::parse(text.str());
}

}  // namespace nantrack
