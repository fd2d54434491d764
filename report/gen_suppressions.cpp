// --gen-suppressions; the interface is in report/suppressions.h.
#include <algorithm>
#include <ostream>
#include <span>

#include <fmt/format.h>

#include "report/error_description.h"
#include "report/frame_format.h"
#include "report/project_frame.h"
#include "report/suppressions.h"

namespace nantrack {
namespace {

// As many frames as valgrind's --num-callers shows by default.
constexpr size_t kFramesWithoutProjectFrame = 12;

// The frames a suppression lists: innermost to the innermost project frame.
std::span<const SourceFrame> frames_to_match(const SourceStack& stack) {
  const SourceFrame* project = innermost_project_frame(stack);
  const size_t count = project ? static_cast<size_t>(project - stack.data()) + 1
                               : std::min(stack.size(), kFramesWithoutProjectFrame);
  return std::span(stack).first(count);
}

// "make_buffer(unsigned long)", or the module for a stack without names.
std::string site_of(std::span<const SourceFrame> frames) {
  if (frames.empty()) return "an unknown stack";
  const SourceFrame& site = frames.back();
  if (!site.function.empty()) return site.function;
  return site.module.empty() ? fmt::format("{:#x}", site.address) : site.module;
}

void write_block(std::ostream& out, std::string_view comment, std::string_view name, std::string_view type,
                 std::string_view leak_kind, const SourceStack& stack) {
  const std::span<const SourceFrame> frames = frames_to_match(stack);
  if (frames.empty()) {
    out << "# " << comment << ": no stack was recorded, so no suppression can single it out\n";
    return;
  }
  out << "# " << comment << "\n{\n   " << name << "\n   nantrack:" << type << '\n';
  if (!leak_kind.empty()) out << "   match-leak-kinds: " << leak_kind << '\n';
  bool after_any_frames = false;
  for (const SourceFrame& frame : frames) {
    const bool unnamed = frame.function.empty() && frame.module.empty();
    if (unnamed && !after_any_frames) out << "   ...\n";
    if (!frame.function.empty()) out << "   fun:" << frame.function << '\n';
    else if (!frame.module.empty()) out << "   obj:" << frame.module << '\n';
    after_any_frames = unnamed;
  }
  out << "}\n";
}

}  // namespace

void write_generated_suppressions(const Report& report, std::ostream& out) {
  for (const ProcessReport& process : report.processes) {
    const uint32_t pid = process.process.pid;
    for (const ErrorFinding& error : process.errors) {
      const SourceStack& stack = suppressed_stack(error);
      write_block(out, fmt::format("pid {}: {}", pid, describe_error(error.event)),
                  fmt::format("{} in {}", name_of(error.event.kind), site_of(frames_to_match(stack))),
                  name_of(error.event.kind), "", stack);
    }
    for (const LeakGroup& leak : process.leaks) {
      write_block(out,
                  fmt::format("pid {}: {} in {} leaked ({})", pid, counted(leak.bytes, "byte", "bytes"),
                              counted(leak.blocks, "block", "blocks"), name_of(leak.kind)),
                  fmt::format("leak from {}", site_of(frames_to_match(leak.stack))), "leak", name_of(leak.kind),
                  leak.stack);
    }
  }
}

}  // namespace nantrack
