#include "report/html_data.h"

#include <string_view>
#include <unordered_map>

#include <fmt/format.h>

#include "report/error_description.h"
#include "report/leak_flame_tree.h"
#include "report/project_frame.h"
#include "version.h"

namespace nantrack {
namespace {

using nlohmann::json;

// Interns frames and module paths into the "frames" and "modules" arrays.
class FrameTable {
 public:
  json stack(const SourceStack& stack) {
    json indexes = json::array();
    for (const SourceFrame& frame : stack) indexes.push_back(intern(frame));
    return indexes;
  }

  json take_frames() { return std::move(frames_); }
  json take_modules() { return std::move(modules_); }

 private:
  size_t intern(const SourceFrame& frame) {
    // Every field that is shown; the lengths keep the free-text fields apart.
    std::string key = fmt::format("{:x}|{:x}|{}|{:d}|{}|{}|{}{}{}", frame.address, frame.module_offset, frame.line,
                                  frame.inlined, frame.function.size(), frame.file.size(), frame.function,
                                  frame.file, frame.module);
    auto [found, inserted] = frame_index_.try_emplace(std::move(key), frames_.size());
    if (inserted) frames_.push_back(frame_json(frame));
    return found->second;
  }

  json frame_json(const SourceFrame& frame) {
    json out = {{"addr", fmt::format("{:#x}", frame.address)}};
    if (!frame.function.empty()) out["fn"] = frame.function;
    if (!frame.file.empty()) out["file"] = frame.file;
    if (frame.line != 0) out["line"] = frame.line;
    if (!frame.module.empty()) {
      out["mod"] = intern_module(frame.module);
      out["off"] = fmt::format("{:#x}", frame.module_offset);
    }
    if (frame.inlined) out["inl"] = true;
    if (is_system_frame(frame)) out["sys"] = true;
    return out;
  }

  size_t intern_module(const std::string& path) {
    auto [found, inserted] = module_index_.try_emplace(path, modules_.size());
    if (inserted) modules_.push_back(path);
    return found->second;
  }

  json frames_ = json::array();
  json modules_ = json::array();
  std::unordered_map<std::string, size_t> frame_index_;
  std::unordered_map<std::string, size_t> module_index_;
};

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
          {"errors", std::move(errors)},
          {"total_allocations", summary.total_allocations},
          {"total_frees", summary.total_frees},
          {"total_bytes", summary.total_bytes},
          {"peak_bytes", summary.peak_bytes}};
}

// Where the table points a reader: the innermost frame of their own code,
// not the vector or strdup that called malloc for it.
size_t top_frame_position(const SourceStack& stack) {
  const SourceFrame* frame = innermost_project_frame(stack);
  return frame == nullptr ? 0 : static_cast<size_t>(frame - stack.data());
}

json leak_json(const LeakGroup& leak, FrameTable& frames) {
  json alloc = json::array();
  for (AllocKind kind : leak.alloc_kinds) alloc.push_back(name_of(kind));
  return {{"kind", name_of(leak.kind)},
          {"bytes", leak.bytes},
          {"blocks", leak.blocks},
          {"alloc", std::move(alloc)},
          {"stack", frames.stack(leak.stack)},
          {"top", top_frame_position(leak.stack)}};
}

json error_json(const ErrorFinding& error, FrameTable& frames) {
  json stacks = json::array();
  for (const auto& [caption, stack] : captioned_stacks(error))
    stacks.push_back({{"caption", caption}, {"stack", frames.stack(*stack)}});
  return {{"kind", name_of(error.event.kind)},
          {"message", describe_error(error.event)},
          {"count", error.event.occurrences},
          {"stacks", std::move(stacks)}};
}

json flame_json(const FlameNode& node) {
  json out = {{"name", node.name}, {"bytes", node.bytes}, {"blocks", node.blocks}};
  if (node.merged) out["merged"] = true;
  if (!node.children.empty()) {
    json& children = out["children"] = json::array();
    for (const FlameNode& child : node.children) children.push_back(flame_json(child));
  }
  return out;
}

json process_json(const ProcessReport& report, FrameTable& frames) {
  const ProcessInfo& info = report.process;
  json out = {{"pid", info.pid},
              {"ppid", info.ppid},
              {"exe", info.exe},
              {"argv", info.argv},
              {"exit_status", info.exit_status ? json(*info.exit_status) : json(nullptr)},
              {"signal", info.signal},
              {"crashed", info.crashed},
              {"leaks_unknown", info.live_blocks_unknown},
              {"forked_child", info.forked_child},
              {"snapshot", info.snapshot ? json{{"sequence", info.snapshot->sequence},
                                                {"trigger", name_of(info.snapshot->trigger)}}
                                         : json(nullptr)},
              {"leaks_gate", report.leaks_gate},
              {"trace", report.trace_path},
              {"summary", summary_json(report.summary)},
              {"notes", report.notes},
              {"flame", flame_json(build_leak_flame_tree(report.leaks))}};
  if (info.start_ns > 0 && info.end_ns >= info.start_ns) out["duration_ms"] = (info.end_ns - info.start_ns) / 1e6;
  json& leaks = out["leaks"] = json::array();
  for (const LeakGroup& leak : report.leaks) leaks.push_back(leak_json(leak, frames));
  json& errors = out["errors"] = json::array();
  for (const ErrorFinding& error : report.errors) errors.push_back(error_json(error, frames));
  return out;
}

json suppression_json(const SuppressionUse& use) {
  return {{"name", use.name}, {"source", use.source}, {"bytes", use.bytes}, {"blocks", use.blocks},
          {"errors", use.errors}};
}

}  // namespace

json report_to_html_data(const Report& report) {
  FrameTable frames;
  json processes = json::array();
  for (const ProcessReport& process : report.processes) processes.push_back(process_json(process, frames));
  json suppressions = json::array();
  for (const SuppressionUse& use : report.suppressions) suppressions.push_back(suppression_json(use));
  return {{"tool", "nantrack"},
          {"version", kVersion},
          {"modules", frames.take_modules()},
          {"frames", frames.take_frames()},
          {"processes", std::move(processes)},
          {"suppressions", std::move(suppressions)}};
}

}  // namespace nantrack
