#include "report/format_sarif.h"

#include <array>
#include <string_view>

#include <fmt/format.h>

#include "report/error_description.h"
#include "report/frame_format.h"
#include "report/leak_flame_tree.h"
#include "report/project_frame.h"
#include "report/sarif_location.h"
#include "version.h"

namespace nantrack {
namespace {

using nlohmann::json;

constexpr std::string_view kSchema =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

struct Rule {
  std::string_view id;    // the JSON report's name for the finding
  std::string_view name;  // SARIF's PascalCase rule name
  std::string_view short_description;
  std::string_view full_description;
};

// Index 0 is the leak rule; index N the rule of ErrorKind value N, so a
// result's ruleIndex is its error kind.
constexpr std::array<Rule, 1 + kMaxErrorKind> kRules{{
    {"leak", "MemoryLeak", "Heap memory leaked",
     "Heap blocks still allocated when the process exited, grouped by the stack that allocated them."},
    {"double_free", "DoubleFree", "Heap block freed twice",
     "A block was released a second time; nantrack did not pass the pointer on to the allocator."},
    {"invalid_free", "InvalidFree", "Free of a pointer that is not a heap block",
     "A deallocation function got a pointer that no allocation function returned: never allocated, "
     "inside a block, or a stack or global address."},
    {"mismatched_free", "MismatchedFree", "Deallocation does not match allocation",
     "A block was released by a function of another family than the one that allocated it "
     "(malloc/delete, new/free, new[]/delete, new/delete[])."},
    {"heap_overflow", "HeapOverflow", "Write outside a heap block",
     "Guard bytes beside a block were overwritten: something wrote past one of its ends."},
    {"write_after_free", "WriteAfterFree", "Freed heap block modified",
     "A block kept in quarantine after it was freed was written to: a use after free."},
}};

size_t rule_index(ErrorKind kind) { return static_cast<size_t>(kind); }

json rules_json() {
  json rules = json::array();
  for (const Rule& rule : kRules) {
    rules.push_back({{"id", rule.id},
                     {"name", rule.name},
                     {"shortDescription", {{"text", rule.short_description}}},
                     {"fullDescription", {{"text", rule.full_description}}},
                     {"defaultConfiguration", {{"level", "error"}}}});
  }
  return rules;
}

// The same finding in two runs gets the same fingerprint even when addresses
// move: FNV-1a over the rule and the function names of the stack.
std::string stack_fingerprint(std::string_view rule_id, const SourceStack& stack) {
  uint64_t hash = 0xcbf29ce484222325;
  auto mix = [&hash](std::string_view text) {
    for (unsigned char c : text) hash = (hash ^ c) * 0x100000001b3;
    hash = (hash ^ 0xff) * 0x100000001b3;  // separator: "ab","c" differs from "a","bc"
  };
  mix(rule_id);
  for (const SourceFrame& frame : stack) mix(frame.function.empty() ? frame_label(frame) : frame.function);
  return fmt::format("{:016x}", hash);
}

// The innermost project frame of the stack as a location; null when no
// frame has a source file.
json project_location(const SarifLocations& locations, const SourceStack& stack) {
  const SourceFrame* frame = innermost_project_frame(stack);
  return frame ? locations.location(*frame, frame - stack.data()) : json(nullptr);
}

json result_json(std::string_view rule_id, size_t rule, std::string_view level, std::string message,
                 const SarifLocations& locations, const SourceStack& stack) {
  json project = project_location(locations, stack);
  return {{"ruleId", rule_id},
          {"ruleIndex", rule},
          {"level", level},
          {"message", {{"text", std::move(message)}}},
          {"locations", project.is_null() ? json::array() : json::array({std::move(project)})},
          {"partialFingerprints", {{"nantrackStack/v1", stack_fingerprint(rule_id, stack)}}}};
}

// A leak found by a snapshot names it; one that does not count for the CI
// gate (most snapshots, and the exit after __lsan_do_leak_check) is a note.
json leak_result(const LeakGroup& leak, const ProcessReport& process, const SarifLocations& locations) {
  std::string message = fmt::format("{} in {} leaked ({})", counted(leak.bytes, "byte", "bytes"),
                                    counted(leak.blocks, "block", "blocks"), name_of(leak.kind));
  if (process.process.snapshot) message += fmt::format(", found by {} while the process ran", snapshot_label(process.process));
  const std::string_view level = !process.leaks_gate ? "note" : leak.kind == LeakKind::Definite ? "error" : "warning";
  json result = result_json(kRules[0].id, 0, level, std::move(message), locations, leak.stack);
  result["stacks"] = json::array({locations.stack(kAllocStackCaption, leak.stack)});
  json& properties = result["properties"] = {{"pid", process.process.pid},
                                             {"bytes", leak.bytes},
                                             {"blocks", leak.blocks},
                                             {"leakKind", name_of(leak.kind)},
                                             {"gates", process.leaks_gate}};
  if (const auto& snapshot = process.process.snapshot)
    properties["snapshot"] = {{"sequence", snapshot->sequence}, {"trigger", name_of(snapshot->trigger)}};
  return result;
}

json error_result(const ErrorFinding& error, uint32_t pid, const SarifLocations& locations) {
  const size_t rule = rule_index(error.event.kind);
  json result = result_json(kRules[rule].id, rule, "error", describe_error(error.event), locations, error.stack);
  json& stacks = result["stacks"] = json::array();
  json related = json::array();
  for (const auto& [caption, stack] : captioned_stacks(error)) {
    stacks.push_back(locations.stack(caption, *stack));
    // Where the block was freed and allocated, as links GitHub shows beside the result.
    if (stack == &error.stack) continue;
    json location = project_location(locations, *stack);
    if (location.is_null()) continue;
    location["id"] = related.size() + 1;
    location["message"]["text"] = caption;
    related.push_back(std::move(location));
  }
  if (!related.empty()) result["relatedLocations"] = std::move(related);
  result["properties"] = {{"pid", pid}, {"address", fmt::format("{:#x}", error.event.address)}};
  // SARIF's own field: how many times the same result was seen.
  result["occurrenceCount"] = error.event.occurrences;
  return result;
}

}  // namespace

json report_to_sarif(const Report& report, const SarifOptions& options) {
  const SarifLocations locations(options.source_root.empty() ? std::filesystem::current_path()
                                                             : std::filesystem::absolute(options.source_root));
  json results = json::array();
  for (const ProcessReport& process : report.processes) {
    for (const ErrorFinding& error : process.errors) results.push_back(error_result(error, process.process.pid, locations));
    for (const LeakGroup& leak : process.leaks) results.push_back(leak_result(leak, process, locations));
  }
  json driver = {{"name", "nantrack"}, {"version", kVersion}, {"semanticVersion", kVersion}, {"rules", rules_json()}};
  json run = {{"tool", {{"driver", std::move(driver)}}},
              {"originalUriBaseIds", locations.original_uri_base_ids()},
              {"results", std::move(results)}};
  return {{"$schema", kSchema}, {"version", "2.1.0"}, {"runs", json::array({std::move(run)})}};
}

std::string render_sarif_report(const Report& report, const SarifOptions& options) {
  return report_to_sarif(report, options).dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

}  // namespace nantrack
