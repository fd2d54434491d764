#include "report/gate.h"

#include <fmt/format.h>

#include <stdexcept>
#include <vector>

namespace nantrack {
namespace {

constexpr LeakKind kLeakKinds[] = {LeakKind::Definite, LeakKind::Indirect, LeakKind::Possible, LeakKind::Reachable};

size_t index_of(LeakKind kind) { return static_cast<size_t>(kind); }
size_t index_of(ErrorKind kind) { return static_cast<size_t>(kind) - 1; }

void set_all_errors(FailOn& fail_on, bool value) { fail_on.errors.fill(value); }

// Applies one word of --fail-on; false if it is not a known word.
bool apply_word(FailOn& fail_on, std::string_view word) {
  if (word == "all") {
    fail_on.leak_kinds.fill(true);
    set_all_errors(fail_on, true);
    return true;
  }
  if (word == "none") {
    fail_on = FailOn{};
    return true;
  }
  if (word == "leaks") {  // every leak that is not still reachable
    for (LeakKind kind : {LeakKind::Definite, LeakKind::Indirect, LeakKind::Possible})
      fail_on.leak_kinds[index_of(kind)] = true;
    return true;
  }
  if (word == "errors") {
    set_all_errors(fail_on, true);
    return true;
  }
  for (LeakKind kind : kLeakKinds)
    if (word == name_of(kind)) return fail_on.leak_kinds[index_of(kind)] = true;
  for (uint8_t value = 1; value <= kMaxErrorKind; ++value) {
    auto kind = static_cast<ErrorKind>(value);
    if (word == name_of(kind)) return fail_on.errors[index_of(kind)] = true;
  }
  return false;
}

std::string accepted_words() {
  std::string words = "all, none, leaks, errors";
  for (LeakKind kind : kLeakKinds) words += fmt::format(", {}", name_of(kind));
  for (uint8_t value = 1; value <= kMaxErrorKind; ++value)
    words += fmt::format(", {}", name_of(static_cast<ErrorKind>(value)));
  return words;
}

std::string plural(uint64_t count, std::string_view one, std::string_view many) {
  return fmt::format("{} {}", count, count == 1 ? one : many);
}

}  // namespace

FailOn FailOn::defaults() {
  FailOn fail_on;
  fail_on.leak_kinds[index_of(LeakKind::Definite)] = true;
  fail_on.leak_kinds[index_of(LeakKind::Possible)] = true;
  set_all_errors(fail_on, true);
  return fail_on;
}

FailOn FailOn::parse(std::string_view kinds) {
  FailOn fail_on;
  bool any = false;
  while (!kinds.empty()) {
    size_t comma = kinds.find(',');
    std::string_view word = kinds.substr(0, comma);
    kinds = comma == std::string_view::npos ? std::string_view() : kinds.substr(comma + 1);
    if (word.empty()) continue;
    if (!apply_word(fail_on, word))
      throw std::invalid_argument(fmt::format("unknown kind '{}' in --fail-on (expected a comma-separated list of: {})",
                                              word, accepted_words()));
    any = true;
  }
  if (!any) throw std::invalid_argument("--fail-on needs at least one kind (or 'none')");
  return fail_on;
}

GateDecision decide_gate(const Report& report, const FailOn& fail_on, std::optional<uint64_t> max_leaked_bytes,
                         int exit_code) {
  GateDecision decision;
  for (const ProcessReport& process : report.processes) {
    for (const LeakGroup& leak : process.leaks)
      if (process.leaks_gate && fail_on.leak_kinds[index_of(leak.kind)]) {
        decision.leaked_bytes += leak.bytes;
        decision.leaked_blocks += leak.blocks;
      }
    for (const ErrorFinding& error : process.errors)
      if (fail_on.errors[index_of(error.event.kind)]) decision.errors += error.event.occurrences;
  }
  bool leaks_trip = decision.leaked_bytes > max_leaked_bytes.value_or(0) ||
                    (!max_leaked_bytes && decision.leaked_blocks > 0);
  decision.tripped = leaks_trip || decision.errors > 0;

  std::vector<std::string> reasons;
  if (leaks_trip)
    reasons.push_back(fmt::format("{} leaked in {}{}", plural(decision.leaked_bytes, "byte", "bytes"),
                                  plural(decision.leaked_blocks, "block", "blocks"),
                                  max_leaked_bytes ? fmt::format(" (limit {})", *max_leaked_bytes) : ""));
  if (decision.errors) reasons.push_back(plural(decision.errors, "error", "errors"));
  if (decision.tripped)
    decision.line = fmt::format("nantrack: CI gate failed: {}; exit status {}", fmt::join(reasons, " and "), exit_code);
  else if (decision.leaked_bytes)
    decision.line = fmt::format("nantrack: CI gate passed: {} leaked, within the limit of {}",
                                plural(decision.leaked_bytes, "byte", "bytes"), *max_leaked_bytes);
  else
    decision.line = "nantrack: CI gate passed: no leaks or errors of the kinds --fail-on counts";
  return decision;
}

}  // namespace nantrack
