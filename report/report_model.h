// What a report says, independent of how it is rendered: traces symbolized,
// leaks grouped by stack, suppressions applied, summaries counted. Built by
// build_report() (report/aggregate.h); rendered by the formatters
// (format_text, format_json, format_html, format_sarif).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "report/source_frame.h"
#include "report/trace.h"
#include "tracker/kinds.h"

namespace nantrack {

// Reachability of a block live at exit, with valgrind's meaning, from the
// leak scan (tracker/reachability.h); a block it did not see is Definite.
enum class LeakKind : uint8_t { Definite, Indirect, Possible, Reachable };
constexpr std::string_view name_of(LeakKind kind) {
  switch (kind) {
    case LeakKind::Definite: return "definite";
    case LeakKind::Indirect: return "indirect";
    case LeakKind::Possible: return "possible";
    case LeakKind::Reachable: return "reachable";
  }
  return "?";
}

// A symbolized stack: frames innermost first, inlined calls as their own
// frames. Frames inside nantrack never appear (the tracker drops them).
using SourceStack = std::vector<SourceFrame>;

// Leaked blocks with the same allocation stack and kind.
struct LeakGroup {
  LeakKind kind = LeakKind::Definite;
  uint64_t bytes = 0;
  uint64_t blocks = 0;
  StackId stack_id = 0;
  SourceStack stack;
  std::vector<AllocKind> alloc_kinds;  // distinct, in first-seen order
};

struct ErrorFinding {
  ErrorEvent event;  // kind, addresses, sizes, kinds, thread
  SourceStack stack;        // the bad call
  SourceStack alloc_stack;  // empty when unknown
  SourceStack free_stack;   // empty when unknown
};

// Which suppression hid what, for the report's "suppressions used" list.
struct SuppressionUse {
  std::string name;     // the rule as written ("leak:libfoo.so") or the .supp block's name
  std::string source;   // file it came from
  uint64_t bytes = 0;   // leaked bytes it hid
  uint64_t blocks = 0;
  uint64_t errors = 0;  // errors it hid
  int line = 0;         // where the rule starts in `source`
};

constexpr size_t kErrorKindCount = kMaxErrorKind;  // ErrorKind values 1..kMaxErrorKind
using ErrorCounts = std::array<uint64_t, kErrorKindCount>;  // index: value - 1
inline uint64_t& count_of(ErrorCounts& counts, ErrorKind kind) { return counts[static_cast<size_t>(kind) - 1]; }
inline uint64_t count_of(const ErrorCounts& counts, ErrorKind kind) {
  return counts[static_cast<size_t>(kind) - 1];
}

// The JSON report's "summary" object, field for field (DESIGN.md).
struct Summary {
  // DESIGN.md: every block still live at exit that is not suppressed,
  // still-reachable ones included; lost_*() leave those out.
  uint64_t leaked_bytes = 0;
  uint64_t leaked_blocks = 0;
  uint64_t definite_bytes = 0;
  uint64_t indirect_bytes = 0;
  uint64_t possible_bytes = 0;
  uint64_t reachable_bytes = 0;
  uint64_t reachable_blocks = 0;  // not in the JSON; for lost_blocks()
  uint64_t suppressed_bytes = 0;
  ErrorCounts errors{};  // unsuppressed
  uint64_t total_allocations = 0;
  uint64_t total_frees = 0;
  uint64_t total_bytes = 0;
  uint64_t peak_bytes = 0;

  // What the program lost (definite, indirect, possible): the text SUMMARY.
  uint64_t lost_bytes() const { return leaked_bytes - reachable_bytes; }
  uint64_t lost_blocks() const { return leaked_blocks - reachable_blocks; }

  // Adds another process's: every count is summed; the peak is the larger
  // one (the processes' peaks need not coincide).
  Summary& operator+=(const Summary& other) {
    leaked_bytes += other.leaked_bytes;
    leaked_blocks += other.leaked_blocks;
    definite_bytes += other.definite_bytes;
    indirect_bytes += other.indirect_bytes;
    possible_bytes += other.possible_bytes;
    reachable_bytes += other.reachable_bytes;
    reachable_blocks += other.reachable_blocks;
    suppressed_bytes += other.suppressed_bytes;
    for (size_t kind = 0; kind < errors.size(); ++kind) errors[kind] += other.errors[kind];
    total_allocations += other.total_allocations;
    total_frees += other.total_frees;
    total_bytes += other.total_bytes;
    peak_bytes = peak_bytes > other.peak_bytes ? peak_bytes : other.peak_bytes;
    return *this;
  }
};

struct ProcessReport {
  ProcessInfo process;
  std::string trace_path;
  Summary summary;
  // Whether its leaks count for the CI gate: those of the process's own
  // trace, unless __lsan_do_leak_check() made the leak check earlier; then
  // those of that check's snapshot instead. A snapshot (nantrack_check_leaks,
  // __lsan_do_recoverable_leak_check, the snapshot signal) is reported but
  // never gates: the process went on after it. Errors always count.
  bool leaks_gate = true;
  std::vector<ErrorFinding> errors;  // unsuppressed, in the order they happened
  std::vector<LeakGroup> leaks;      // unsuppressed, biggest first (bytes, then blocks)
  std::vector<std::string> notes;    // symbolizer warnings and the like, one line each

  bool has_findings() const { return !errors.empty() || !leaks.empty(); }
};

// "snapshot 2 (signal)" for a snapshot trace, "" for a process's own trace.
inline std::string snapshot_label(const ProcessInfo& process) {
  if (!process.snapshot) return "";
  return "snapshot " + std::to_string(process.snapshot->sequence) + " (" +
         std::string(name_of(process.snapshot->trigger)) + ")";
}

struct Report {
  std::vector<ProcessReport> processes;       // by pid
  std::vector<SuppressionUse> suppressions;   // those that matched anything
};

}  // namespace nantrack
