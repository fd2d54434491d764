#include "report/format_json.h"

#include <fmt/format.h>

#include "version.h"

namespace nantrack {
namespace {

using nlohmann::json;

std::string hex(uint64_t value) { return fmt::format("{:#x}", value); }

json stack_json(const SourceStack& stack) {
  json frames = json::array();
  for (const SourceFrame& frame : stack) {
    frames.push_back({{"address", hex(frame.address)},
                      {"function", frame.function},
                      {"file", frame.file},
                      {"line", frame.line},
                      {"module", frame.module},
                      {"inlined", frame.inlined}});
  }
  return frames;
}

json summary_json(const Summary& summary) {
  json errors = json::object();
  for (uint8_t value = 1; value <= kMaxErrorKind; ++value) {
    const auto kind = static_cast<ErrorKind>(value);
    errors[std::string(name_of(kind))] = count_of(summary.errors, kind);
  }
  return {{"leaked_bytes", summary.leaked_bytes},
          {"leaked_blocks", summary.leaked_blocks},
          {"definite_bytes", summary.definite_bytes},
          {"indirect_bytes", summary.indirect_bytes},
          {"possible_bytes", summary.possible_bytes},
          {"reachable_bytes", summary.reachable_bytes},
          {"suppressed_bytes", summary.suppressed_bytes},
          {"errors", errors},
          {"total_allocations", summary.total_allocations},
          {"total_frees", summary.total_frees},
          {"total_bytes", summary.total_bytes},
          {"peak_bytes", summary.peak_bytes}};
}

json leak_json(const LeakGroup& leak) {
  return {{"kind", name_of(leak.kind)}, {"bytes", leak.bytes}, {"blocks", leak.blocks}, {"stack", stack_json(leak.stack)}};
}

json error_json(const ErrorFinding& error) {
  return {{"kind", name_of(error.event.kind)},
          {"address", hex(error.event.address)},
          {"size", error.event.block_size},
          {"stack", stack_json(error.stack)},
          {"alloc_stack", stack_json(error.alloc_stack)},
          {"free_stack", stack_json(error.free_stack)}};
}

json process_json(const ProcessReport& report) {
  const ProcessInfo& process = report.process;
  json leaks = json::array(), errors = json::array();
  for (const LeakGroup& leak : report.leaks) leaks.push_back(leak_json(leak));
  for (const ErrorFinding& error : report.errors) errors.push_back(error_json(error));
  return {{"pid", process.pid},
          {"ppid", process.ppid},
          {"argv", process.argv},
          {"exit_status", process.exit_status ? json(*process.exit_status) : json(nullptr)},
          {"signal", process.signal != 0 ? json(process.signal) : json(nullptr)},
          {"summary", summary_json(report.summary)},
          {"leaks", std::move(leaks)},
          {"errors", std::move(errors)}};
}

}  // namespace

json report_to_json(const Report& report) {
  json processes = json::array();
  for (const ProcessReport& process : report.processes) processes.push_back(process_json(process));
  return {{"tool", "nantrack"}, {"version", kVersion}, {"format_version", kJsonFormatVersion}, {"processes", processes}};
}

}  // namespace nantrack
