// --gen-suppressions; the interface is in report/suppressions.h.
#include <algorithm>
#include <ostream>
#include <set>
#include <span>
#include <string>

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
  const size_t count =
      project ? static_cast<size_t>(project - stack.data()) + 1 : std::min(stack.size(), kFramesWithoutProjectFrame);
  return std::span(stack).first(count);
}

// "make_buffer(unsigned long)", or the module for a stack without names.
std::string site_of(std::span<const SourceFrame> frames) {
  if (frames.empty()) return "an unknown stack";
  const SourceFrame& site = frames.back();
  if (!site.function.empty()) return site.function;
  return site.module.empty() ? fmt::format("{:#x}", site.address) : site.module;
}

// Writes each distinct block once: a leak site reached through an unrolled
// loop has several stacks that differ only in their pcs, and one suppression.
class SuppressionWriter {
 public:
  explicit SuppressionWriter(std::ostream& out) : out_(out) {}

  void write(std::string_view comment, std::string_view name, std::string_view type, std::string_view leak_kind,
             const SourceStack& stack) {
    const std::span<const SourceFrame> frames = frames_to_match(stack);
    if (frames.empty()) {
      out_ << "# " << comment << ": no stack was recorded, so no suppression can single it out\n";
      return;
    }
    std::string block = fmt::format("{{\n   {}\n   nantrack:{}\n", name, type);
    if (!leak_kind.empty()) block += fmt::format("   match-leak-kinds: {}\n", leak_kind);
    bool after_any_frames = false;
    for (const SourceFrame& frame : frames) {
      const bool unnamed = frame.function.empty() && frame.module.empty();
      if (unnamed && !after_any_frames) block += "   ...\n";
      if (!frame.function.empty())
        block += fmt::format("   fun:{}\n", frame.function);
      else if (!frame.module.empty())
        block += fmt::format("   obj:{}\n", frame.module);
      after_any_frames = unnamed;
    }
    block += "}\n";
    if (written_.insert(block).second) out_ << "# " << comment << '\n' << block;
  }

 private:
  std::ostream& out_;
  std::set<std::string> written_;
};

}  // namespace

void write_generated_suppressions(const Report& report, std::ostream& out) {
  SuppressionWriter writer(out);
  for (const ProcessReport& process : report.processes) {
    const uint32_t pid = process.process.pid;
    for (const ErrorFinding& error : process.errors) {
      const SourceStack& stack = suppressed_stack(error);
      writer.write(fmt::format("pid {}: {}", pid, describe_error(error.event)),
                   fmt::format("{} in {}", name_of(error.event.kind), site_of(frames_to_match(stack))),
                   name_of(error.event.kind), "", stack);
    }
    for (const LeakGroup& leak : process.leaks) {
      writer.write(fmt::format("pid {}: {} in {} leaked ({})", pid, counted(leak.bytes, "byte", "bytes"),
                               counted(leak.blocks, "block", "blocks"), name_of(leak.kind)),
                   fmt::format("leak from {}", site_of(frames_to_match(leak.stack))), "leak", name_of(leak.kind),
                   leak.stack);
    }
  }
}

}  // namespace nantrack
