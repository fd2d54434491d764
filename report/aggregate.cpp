#include "report/aggregate.h"

#include <signal.h>
#include <string.h>

#include <algorithm>
#include <map>
#include <span>
#include <unordered_map>

#include <fmt/format.h>

#include "report/frame_format.h"
#include "report/symbol_cache.h"
#include "report/symbolizer.h"

namespace nantrack {
namespace {

// Symbolizes each stack of one trace once, with the trace's own module map.
class StackSymbolizer {
 public:
  StackSymbolizer(const Trace& trace, const ReportOptions& options, SymbolCache* cache)
      : trace_(trace), symbolizer_(trace.modules, options.debuginfo_path, cache) {}

  // Remembered: errors name the same few stacks again and again.
  const SourceStack& operator()(StackId id) {
    auto [entry, inserted] = stacks_.try_emplace(id);
    if (inserted) entry->second = uncached(id);
    return entry->second;
  }

  // Built anew, for a stack that is used once (a leak group's): copying it
  // out of a cache would double the work of a report of many groups.
  SourceStack uncached(StackId id) {
    // Sized first: growing it pc by pc moved every frame several times.
    std::vector<const std::vector<SourceFrame>*> frames_of_pcs;
    size_t count = 0;
    for (const uint64_t pc : trace_.stack(id)) {
      frames_of_pcs.push_back(&symbolizer_.symbolize(pc));
      count += frames_of_pcs.back()->size();
    }
    SourceStack stack;
    stack.reserve(count);
    for (const std::vector<SourceFrame>* frames : frames_of_pcs) stack.insert(stack.end(), frames->begin(), frames->end());
    return stack;
  }

  const std::vector<std::string>& warnings() const { return symbolizer_.warnings(); }

 private:
  const Trace& trace_;
  Symbolizer symbolizer_;
  std::unordered_map<StackId, SourceStack> stacks_;
};

// What each suppression hid, over all processes.
class SuppressionTally {
 public:
  void add_leak(const Suppression& rule, const LeakGroup& group) {
    SuppressionUse& use = use_of(rule);
    use.bytes += group.bytes;
    use.blocks += group.blocks;
  }
  void add_error(const Suppression& rule, uint64_t occurrences) { use_of(rule).errors += occurrences; }

  // In the order the rules were given.
  std::vector<SuppressionUse> uses() const {
    std::vector<SuppressionUse> uses;
    for (const auto& [rule, use] : uses_) uses.push_back(use);
    return uses;
  }

 private:
  SuppressionUse& use_of(const Suppression& rule) {
    auto [entry, inserted] = uses_.try_emplace(&rule);
    if (inserted) entry->second = {.name = rule.name, .source = rule.source, .line = rule.line};
    return entry->second;
  }

  // Keyed by address: rules live in one vector, so this is the order given.
  std::map<const Suppression*, SuppressionUse> uses_;
};

// The trace's leak_kind; a block the scan did not see (fatal signal, late
// allocation) counts as definite, as every leak did before the scan.
LeakKind leak_kind_of(const LiveBlock& block) {
  switch (block.leak_kind) {
    case 2: return LeakKind::Indirect;
    case 3: return LeakKind::Possible;
    case 4: return LeakKind::Reachable;
    default: return LeakKind::Definite;
  }
}

uint64_t& bytes_of_kind(Summary& summary, LeakKind kind) {
  switch (kind) {
    case LeakKind::Indirect: return summary.indirect_bytes;
    case LeakKind::Possible: return summary.possible_bytes;
    case LeakKind::Reachable: return summary.reachable_bytes;
    case LeakKind::Definite: break;
  }
  return summary.definite_bytes;
}

// Live blocks with the same stack and kind, unsymbolized, in first-seen order.
std::vector<LeakGroup> group_live_blocks(const Trace& trace) {
  std::vector<LeakGroup> groups;
  std::unordered_map<uint64_t, size_t> index_of;  // (stack << 8 | kind) -> groups[index]
  for (const LiveBlock& block : trace.live_blocks) {
    const LeakKind kind = leak_kind_of(block);
    const uint64_t key = uint64_t{block.stack} << 8 | static_cast<uint8_t>(kind);
    auto [entry, inserted] = index_of.try_emplace(key, groups.size());
    if (inserted) groups.push_back({.kind = kind, .stack_id = block.stack});
    LeakGroup& group = groups[entry->second];
    group.bytes += block.size;
    ++group.blocks;
    if (std::ranges::find(group.alloc_kinds, block.kind) == group.alloc_kinds.end())
      group.alloc_kinds.push_back(block.kind);
  }
  return groups;
}

// leaked_* counts every unsuppressed block (DESIGN.md's JSON contract);
// reachable blocks are also counted apart and listed only when asked for.
void add_leaks(ProcessReport& process, const Trace& trace, StackSymbolizer& symbolize, const Suppressions& suppressions,
               SuppressionTally& tally, const ReportOptions& options) {
  Summary& summary = process.summary;
  for (LeakGroup& group : group_live_blocks(trace)) {
    const bool listed = group.kind != LeakKind::Reachable || options.show_reachable;
    // Symbolizing is most of a report's work when thousands of blocks are
    // still reachable at exit (cc1plus: 10,385 stacks, 0.85 s of a 4 s run):
    // here a group needs its stack only if a rule could hide it. It keeps
    // it when every listed group's stack is wanted; otherwise the biggest
    // groups get theirs again once sorted.
    if (suppressions.may_hide(group.kind)) {
      SourceStack stack = symbolize.uncached(group.stack_id);
      if (const Suppression* rule = suppressions.match_leak(group.kind, stack)) {
        tally.add_leak(*rule, group);
        summary.suppressed_bytes += group.bytes;
        continue;
      }
      if (listed && options.symbolized_leak_groups == SIZE_MAX) group.stack = std::move(stack);
    }
    bytes_of_kind(summary, group.kind) += group.bytes;
    summary.leaked_bytes += group.bytes;
    summary.leaked_blocks += group.blocks;
    if (group.kind == LeakKind::Reachable) summary.reachable_blocks += group.blocks;
    if (listed) process.leaks.push_back(std::move(group));
  }
  // Ties broken by stack id, so that the same trace always reads the same.
  std::ranges::sort(process.leaks, [](const LeakGroup& a, const LeakGroup& b) {
    return std::tie(b.bytes, b.blocks, a.stack_id) < std::tie(a.bytes, a.blocks, b.stack_id);
  });
  const size_t symbolized = std::min(options.symbolized_leak_groups, process.leaks.size());
  for (LeakGroup& group : std::span(process.leaks).first(symbolized))
    if (group.stack.empty()) group.stack = symbolize.uncached(group.stack_id);
}

void add_errors(ProcessReport& process, const Trace& trace, StackSymbolizer& symbolize,
                const Suppressions& suppressions, SuppressionTally& tally) {
  for (const ErrorEvent& event : trace.errors) {
    ErrorFinding error{.event = event,
                       .stack = symbolize(event.stack),
                       .alloc_stack = symbolize(event.alloc_stack),
                       .free_stack = symbolize(event.free_stack)};
    if (const Suppression* rule = suppressions.match_error(error)) {
      tally.add_error(*rule, event.occurrences);
      continue;
    }
    count_of(process.summary.errors, event.kind) += event.occurrences;
    process.errors.push_back(std::move(error));
  }
}

// What a reader should know before trusting the leaks of this process.
void add_process_notes(ProcessReport& report) {
  const ProcessInfo& process = report.process;
  if (process.own_allocator)
    report.notes.push_back(
        "the program defines malloc itself (an allocator linked in, such as jemalloc or mimalloc): nantrack saw "
        "only what reached the C library's, so the leaks and bad frees of the program's own go unreported");
  const char* signal_name = sigabbrev_np(process.signal);
  const std::string signal = fmt::format("{}{}", process.signal, signal_name ? fmt::format(" (SIG{})", signal_name) : "");
  if (process.live_blocks_unknown)
    report.notes.push_back(fmt::format("the process was killed by signal {} while inside nantrack's block tables: the "
                                       "blocks live at that moment could not be listed, so what it leaked is unknown",
                                       signal));
  else if (process.crashed)
    report.notes.push_back(fmt::format("the process was killed by signal {}: blocks live at that moment are listed as "
                                       "leaked, but do not count for the CI gate",
                                       signal));
  else if (process.signal != 0)
    report.notes.push_back(fmt::format("the process was ended by signal {} before it could free its memory: its "
                                       "leaks were checked at that moment, and do not count for the CI gate",
                                       signal));
  if (process.snapshot && process.snapshot->trigger == SnapshotTrigger::LeakCheck)
    report.notes.push_back(fmt::format("{}: the process's leak check, made by __lsan_do_leak_check() while it ran; "
                                       "its leaks count for the CI gate",
                                       snapshot_label(process)));
  else if (process.snapshot)
    report.notes.push_back(fmt::format("{}: a leak check made while the process ran; its leaks are reported but "
                                       "do not count for the CI gate",
                                       snapshot_label(process)));
  else if (process.leak_check_done)
    report.notes.push_back(
        "__lsan_do_leak_check() made this process's leak check earlier (see its snapshot): "
        "blocks live at exit are reported but do not count for the CI gate");
  if (process.unchecked_late_blocks)
    report.notes.push_back(fmt::format(
        "{} in {} allocated after the leak check, by threads still running as the process ended, were not "
        "checked: they count as still reachable",
        counted(process.unchecked_late_bytes, "byte", "bytes"), counted(process.unchecked_late_blocks, "block", "blocks")));
  if (process.exited_via_underscore_exit)
    report.notes.push_back(
        "the process ended with _exit(): static destructors and atexit handlers did not run, "
        "so what they would have freed counts as leaked");
}

ProcessReport build_process_report(const Trace& trace, const Suppressions& suppressions, const ReportOptions& options,
                                   SymbolCache* cache, SuppressionTally& tally) {
  ProcessReport report{.process = trace.process, .trace_path = trace.path};
  const std::optional<SnapshotInfo>& snapshot = trace.process.snapshot;
  report.leaks_gate = snapshot ? snapshot->trigger == SnapshotTrigger::LeakCheck : !trace.process.leak_check_done;
  // A crash stops the program before it frees anything, so what was live
  // then says little about leaks, and LeakSanitizer would not report it at
  // all. The crash itself is the finding: the main program's signal ends
  // nantrack run too, and a child killed on purpose (a death test's) must
  // not fail the gate. Errors still count.
  if (trace.process.crashed || trace.process.signal != 0) report.leaks_gate = false;
  StackSymbolizer symbolize(trace, options, cache);
  add_errors(report, trace, symbolize, suppressions, tally);
  add_leaks(report, trace, symbolize, suppressions, tally, options);
  report.summary.total_allocations = trace.counters.allocations;
  report.summary.total_frees = trace.counters.frees;
  report.summary.total_bytes = trace.counters.bytes_allocated;
  report.summary.peak_bytes = trace.counters.peak_live_bytes;
  add_process_notes(report);
  report.notes.insert(report.notes.end(), symbolize.warnings().begin(), symbolize.warnings().end());
  return report;
}

}  // namespace

Report build_report(const std::vector<Trace>& traces, const Suppressions& suppressions, const ReportOptions& options) {
  Report report;
  SuppressionTally tally;
  std::optional<SymbolCache> cache;
  if (options.symbol_cache) cache.emplace(*options.symbol_cache);
  for (const Trace& trace : traces)
    report.processes.push_back(build_process_report(trace, suppressions, options, cache ? &*cache : nullptr, tally));
  if (cache) cache->save();
  // A process's snapshots in order, then its own trace.
  std::ranges::stable_sort(report.processes, {}, [](const ProcessReport& each) {
    const std::optional<SnapshotInfo>& snapshot = each.process.snapshot;
    return std::pair{each.process.pid, snapshot ? snapshot->sequence : UINT32_MAX};
  });
  report.suppressions = tally.uses();
  return report;
}

}  // namespace nantrack
