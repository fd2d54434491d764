#include "report/format_text.h"

#include <algorithm>
#include <cctype>
#include <numeric>
#include <span>
#include <string>
#include <utility>

#include <fmt/format.h>

#include "report/error_description.h"
#include "report/frame_format.h"
#include "report/suppressions.h"

namespace nantrack {
namespace {

// How the SUMMARY line counts an error kind: singular and plural.
std::pair<std::string_view, std::string_view> error_words(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::DoubleFree: return {"double free", "double frees"};
    case ErrorKind::InvalidFree: return {"invalid free", "invalid frees"};
    case ErrorKind::MismatchedFree: return {"mismatched free", "mismatched frees"};
    case ErrorKind::HeapOverflow: return {"heap overflow", "heap overflows"};
    case ErrorKind::WriteAfterFree: return {"write after free", "writes after free"};
  }
  return {"error", "errors"};
}

// "3,072 bytes leaked in 3 blocks; 1 error (1 double free)", "no leaks, no errors".
// `leaks_unknown`: the process's live blocks were not listed
// (ProcessInfo::live_blocks_unknown).
std::string summary_text(const Summary& summary, bool leaks_unknown = false) {
  const bool no_leaks = !leaks_unknown && summary.lost_blocks() == 0;
  const std::string leaks = leaks_unknown ? "leaks unknown"
                            : no_leaks    ? "no leaks"
                                          : fmt::format("{} leaked in {}", counted(summary.lost_bytes(), "byte", "bytes"),
                                                        counted(summary.lost_blocks(), "block", "blocks"));
  const uint64_t errors = std::accumulate(summary.errors.begin(), summary.errors.end(), uint64_t{0});
  if (errors == 0) return leaks + (no_leaks ? ", no errors" : "; no errors");
  std::vector<std::string> by_kind;
  for (uint8_t value = 1; value <= kMaxErrorKind; ++value) {
    const auto kind = static_cast<ErrorKind>(value);
    const auto [singular, plural] = error_words(kind);
    if (const uint64_t count = count_of(summary.errors, kind)) by_kind.push_back(counted(count, singular, plural));
  }
  return fmt::format("{}; {} ({})", leaks, counted(errors, "error", "errors"), fmt::join(by_kind, ", "));
}

// An argument as a shell would need it typed; control characters show as
// '?' so that the line stays one line.
std::string shell_quoted(std::string_view arg) {
  constexpr std::string_view kPlain = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_@%+=:,./-";
  if (!arg.empty() && arg.find_first_not_of(kPlain) == std::string_view::npos) return std::string(arg);
  std::string quoted = "'";
  for (const char c : arg) {
    if (c == '\'')
      quoted += "'\\''";
    else
      quoted += std::iscntrl(static_cast<unsigned char>(c)) ? '?' : c;
  }
  return quoted + "'";
}

// The process's command line, cut short: a compiler's hundred arguments
// must not drown the report.
std::string command_line(const ProcessInfo& process) {
  constexpr size_t kLongest = 160;
  if (process.argv.empty()) return process.exe.empty() ? "?" : shell_quoted(process.exe);
  std::string line;
  for (const std::string& arg : process.argv) {
    if (!line.empty()) line += ' ';
    line += shell_quoted(arg);
    if (line.size() > kLongest) return line.substr(0, kLongest) + " ...";
  }
  return line;
}

class TextWriter {
 public:
  TextWriter(const Report& report, std::ostream& out, const TextOptions& options)
      : report_(report), out_(out), options_(options), several_(report.processes.size() > 1) {}

  void write() {
    for (const ProcessReport& process : report_.processes) {
      // A program with its own malloc has no findings because none could
      // be seen: its note is shown all the same.
      // So is the note of a crash whose live blocks could not be listed.
      if (process.has_findings() || process.process.own_allocator || process.process.live_blocks_unknown)
        write_findings(process);
    }
    write_suppressions_used();
    for (const ProcessReport& process : report_.processes) write_summary(process);
    if (report_.processes.empty()) out_ << "SUMMARY: nantrack: no process was traced.\n";
    if (several_) write_total();
  }

 private:
  std::string prefix(const ProcessReport& process) const {
    return fmt::format("=={}== nantrack: ", process.process.pid);
  }

  // ", snapshot 1 (check)" after a snapshot's name, nothing after a process's.
  static std::string snapshot_suffix(const ProcessReport& process) {
    return process.process.snapshot ? ", " + snapshot_label(process.process) : "";
  }

  void write_findings(const ProcessReport& process) {
    const std::string prefix = this->prefix(process);
    if (several_)
      out_ << prefix
           << fmt::format("process {} (parent {}){}: {}\n", process.process.pid, process.process.ppid,
                          snapshot_suffix(process),
                          command_line(process.process));
    for (const std::string& note : process.notes) out_ << prefix << "note: " << note << '\n';
    if (several_ || !process.notes.empty()) out_ << '\n';
    for (const ErrorFinding& error : process.errors) write_error(prefix, error);

    const size_t shown =
        options_.max_leak_groups == 0 ? process.leaks.size() : std::min(options_.max_leak_groups, process.leaks.size());
    for (const LeakGroup& leak : std::span(process.leaks).first(shown)) {
      out_ << prefix
           << fmt::format("{} in {} leaked ({}), allocated from:\n", counted(leak.bytes, "byte", "bytes"),
                          counted(leak.blocks, "block", "blocks"), name_of(leak.kind));
      write_stack(leak.stack);
      out_ << '\n';
    }
    write_leaks_not_shown(prefix, std::span(process.leaks).subspan(shown));
  }

  void write_error(const std::string& prefix, const ErrorFinding& error) {
    out_ << prefix << describe_error(error.event) << '\n';
    if (error.event.occurrences > 1)
      out_ << "  " << counted(error.event.occurrences, "time", "times")
           << " in all, from this call with these stacks; the first is described\n";
    // Damage found on leaving quarantine or at exit has no bad call to show.
    if (error.event.dealloc_kind != DeallocKind::None || !error.stack.empty()) write_stack(error.stack);
    if (!error.free_stack.empty()) {
      out_ << "  " << free_stack_caption(error.event.kind) << ":\n";
      write_stack(error.free_stack);
    }
    if (!error.alloc_stack.empty()) {
      out_ << "  " << kAllocStackCaption << ":\n";
      write_stack(error.alloc_stack);
    }
    out_ << '\n';
  }

  void write_stack(const SourceStack& stack) {
    if (stack.empty()) {
      out_ << "    (no stack recorded)\n";
      return;
    }
    const size_t shown = options_.max_frames == 0 ? stack.size() : std::min(options_.max_frames, stack.size());
    for (size_t i = 0; i < shown; ++i) out_ << "    " << format_frame(i, stack[i]) << '\n';
    if (shown < stack.size()) out_ << "    ... " << counted(stack.size() - shown, "more frame", "more frames") << '\n';
  }

  void write_leaks_not_shown(const std::string& prefix, std::span<const LeakGroup> leaks) {
    if (leaks.empty()) return;
    uint64_t bytes = 0, blocks = 0;
    for (const LeakGroup& leak : leaks) {
      bytes += leak.bytes;
      blocks += leak.blocks;
    }
    out_ << prefix
         << fmt::format("{} not shown: {} in {}.\n\n", counted(leaks.size(), "more leak site", "more leak sites"),
                        counted(bytes, "byte", "bytes"), counted(blocks, "block", "blocks"));
  }

  void write_suppressions_used() {
    bool heading = false;
    for (const SuppressionUse& use : report_.suppressions) {
      if (!heading) out_ << "nantrack: suppressions used:\n";
      heading = true;
      std::vector<std::string> hidden;
      if (use.blocks)
        hidden.push_back(
            fmt::format("{} in {}", counted(use.bytes, "byte", "bytes"), counted(use.blocks, "block", "blocks")));
      if (use.errors) hidden.push_back(counted(use.errors, "error", "errors"));
      out_ << fmt::format("    {}: '{}' ({} line {})\n", fmt::join(hidden, " and "), use.name, use.source, use.line);
    }
    if (heading) out_ << '\n';
  }

  // valgrind's LEAK SUMMARY, by bytes; only when something was live at
  // exit. Among several processes, only for one that lost or suppressed
  // something: nearly every process keeps some memory reachable (stdio's
  // buffers, the locale), and a build or test run of hundreds of clean
  // processes would otherwise print six lines for each.
  void write_leak_summary(const ProcessReport& process) {
    const Summary& summary = process.summary;
    if (summary.leaked_bytes + summary.suppressed_bytes == 0) return;
    if (several_ && summary.lost_bytes() + summary.suppressed_bytes == 0) return;
    out_ << "LEAK SUMMARY";
    if (several_) out_ << fmt::format(" (pid {}){}", process.process.pid, snapshot_suffix(process));
    out_ << ":\n";
    const std::pair<const char*, uint64_t> lines[] = {
        {"definitely lost", summary.definite_bytes}, {"indirectly lost", summary.indirect_bytes},
        {"  possibly lost", summary.possible_bytes}, {"still reachable", summary.reachable_bytes},
        {"     suppressed", summary.suppressed_bytes}};
    for (const auto& [label, bytes] : lines) out_ << fmt::format("   {}: {}\n", label, counted(bytes, "byte", "bytes"));
  }

  void write_summary(const ProcessReport& process) {
    write_leak_summary(process);
    out_ << "SUMMARY: nantrack: ";
    if (several_)
      out_ << fmt::format("pid {} ({}){}: ", process.process.pid, command_line(process.process), snapshot_suffix(process));
    out_ << summary_text(process.summary, process.process.live_blocks_unknown);
    if (process.process.own_allocator) out_ << " seen (the program's own malloc was not)";
    out_ << ".\n";
  }

  // What the processes add up to, last: the line a CI log is read for.
  // Snapshots are left out, as their process's own trace counts.
  void write_total() {
    Summary total;
    uint64_t processes = 0;
    for (const ProcessReport& process : report_.processes) {
      if (process.process.snapshot) continue;
      ++processes;
      total += process.summary;
    }
    out_ << fmt::format("SUMMARY: nantrack: {} in all: {}.\n", counted(processes, "process", "processes"),
                        summary_text(total));
  }

  const Report& report_;
  std::ostream& out_;
  const TextOptions& options_;
  const bool several_;  // processes are named only when there is more than one
};

}  // namespace

void write_text_report(const Report& report, std::ostream& out, const TextOptions& options) {
  TextWriter(report, out, options).write();
}

}  // namespace nantrack
