#include "report/suppressions.h"

#include <algorithm>
#include <span>

#include <fmt/format.h>

#include "report/glob.h"
#include "report/suppression_parser.h"
#include "report/untrusted_file.h"

namespace nantrack {
namespace {

std::string_view file_name_of(std::string_view path) {
  const size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

// What valgrind calls a function or object that is unknown.
std::string_view or_unknown(std::string_view name) { return name.empty() ? "???" : name; }

// The names of a frame that patterns are matched against, worked out once
// per frame rather than once per rule and frame.
struct FrameNames {
  std::string_view function, bare_function;  // bare: without the parameter list
  std::string_view file, file_name;
  std::string_view module, module_name;
  int line = 0;
};

std::vector<FrameNames> names_of(const SourceStack& stack) {
  std::vector<FrameNames> names;
  names.reserve(stack.size());
  for (const SourceFrame& frame : stack) {
    const std::string_view function = or_unknown(frame.function);
    names.push_back({.function = function,
                     .bare_function = without_parameters(function),
                     .file = frame.file,
                     .file_name = file_name_of(frame.file),
                     .module = or_unknown(frame.module),
                     .module_name = file_name_of(frame.module),
                     .line = frame.line});
  }
  return names;
}

bool matches_function(std::string_view glob, const FrameNames& frame) {
  return glob_match(glob, frame.function) ||
         (frame.bare_function.size() != frame.function.size() && glob_match(glob, frame.bare_function));
}

bool matches(const FramePattern& pattern, const FrameNames& frame) {
  using Field = FramePattern::Field;
  switch (pattern.field) {
    case Field::Function: return matches_function(pattern.glob, frame);
    case Field::Object: return glob_match(pattern.glob, frame.module);
    case Field::Source:
      return (pattern.line == 0 || pattern.line == frame.line) && !frame.file.empty() &&
             (glob_match(pattern.glob, frame.file) || glob_match(pattern.glob, frame.file_name));
    case Field::AnyFrames: return false;
  }
  return false;
}

bool matches_any_field(std::string_view glob, const FrameNames& frame) {
  return matches_function(glob, frame) || glob_match(glob, frame.file) || glob_match(glob, frame.module) ||
         glob_match(glob, frame.module_name);
}

// Whether `patterns` match the innermost frames of a stack (the frames after
// them do not matter). One pass over the stack keeps, for each pattern
// prefix, whether it can match the frames seen so far: "..." can never make
// this exponential.
bool matches_innermost(const std::vector<FramePattern>& patterns, std::span<const FrameNames> stack) {
  using Field = FramePattern::Field;
  // matched[i]: patterns[0, i) match the frames seen so far.
  std::vector<char> matched(patterns.size() + 1, false), next(patterns.size() + 1, false);
  auto extend_over_any_frames = [&patterns](std::vector<char>& prefixes) {
    for (size_t i = 0; i < patterns.size(); ++i) {
      if (prefixes[i] && patterns[i].field == Field::AnyFrames) prefixes[i + 1] = true;
    }
  };
  matched[0] = true;
  extend_over_any_frames(matched);
  for (const FrameNames& frame : stack) {
    if (matched.back()) return true;
    std::ranges::fill(next, false);
    bool any = false;
    for (size_t i = 0; i < patterns.size(); ++i) {
      if (!matched[i]) continue;
      // "..." stays matched over this frame; a frame pattern moves past it.
      const size_t advanced = patterns[i].field == Field::AnyFrames ? i : i + 1;
      if (advanced == i || matches(patterns[i], frame)) {
        next[advanced] = true;
        any = true;
      }
    }
    if (!any) return false;
    extend_over_any_frames(next);
    std::swap(matched, next);
  }
  return matched.back();
}

bool rule_matches(const Suppression& rule, std::span<const FrameNames> stack) {
  if (rule.dialect == Suppression::Dialect::Valgrind) return matches_innermost(rule.frames, stack);
  return std::ranges::any_of(
      stack, [&rule](const FrameNames& frame) { return matches_any_field(rule.any_frame_glob, frame); });
}

template <typename AppliesTo>
const Suppression* first_match(const std::vector<Suppression>& rules, const SourceStack& stack, AppliesTo applies_to) {
  const std::vector<FrameNames> names = names_of(stack);
  const auto found = std::ranges::find_if(
      rules, [&](const Suppression& rule) { return applies_to(rule) && rule_matches(rule, names); });
  return found == rules.end() ? nullptr : &*found;
}

}  // namespace

std::string_view without_parameters(std::string_view function) {
  std::string_view name = function;
  // Strip what may follow the parameter list: "[clone .cold]" suffixes of
  // split functions, then cv- and ref-qualifiers of methods.
  for (bool stripped = true; stripped;) {
    stripped = false;
    if (const size_t clone = name.rfind(" [clone "); clone != std::string_view::npos && name.ends_with(']')) {
      name = name.substr(0, clone);
      stripped = true;
    }
    for (const std::string_view qualifier : {" const", " volatile", " &&", " &", " noexcept"}) {
      if (name.ends_with(qualifier)) {
        name.remove_suffix(qualifier.size());
        stripped = true;
      }
    }
  }
  if (!name.ends_with(')')) return function;
  int depth = 0;
  for (size_t i = name.size(); i-- > 0;) {
    if (name[i] == ')') ++depth;
    if (name[i] == '(' && --depth == 0) return name.substr(0, i);
  }
  return function;
}

bool Suppression::matches(const SourceStack& stack) const { return rule_matches(*this, names_of(stack)); }

Suppressions Suppressions::load_file(const std::string& path) {
  Suppressions suppressions;
  suppressions.add_file(path);
  return suppressions;
}

void Suppressions::add_file(const std::string& path) {
  auto cannot_read = [&path](std::string_view why) {
    return SuppressionsError(fmt::format("cannot read suppressions file '{}': {}", path, why));
  };
  // A suppressions file is a few hundred lines; 16 MiB is far beyond any.
  constexpr size_t kMaxBytes = size_t{16} << 20;
  std::vector<uint8_t> bytes;
  try {
    bytes = read_untrusted_file(path, kMaxBytes);
  } catch (const UntrustedFileError& error) {
    throw cannot_read(error.what());
  }
  add_text(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()), path);
}

void Suppressions::add_text(std::string_view text, const std::string& source) {
  std::vector<Suppression> parsed = parse_suppressions(text, source);
  rules_.insert(rules_.end(), std::make_move_iterator(parsed.begin()), std::make_move_iterator(parsed.end()));
}

const Suppression* Suppressions::match_leak(LeakKind kind, const SourceStack& alloc_stack) const {
  return first_match(rules_, alloc_stack, [kind](const Suppression& rule) { return rule.applies_to(kind); });
}

bool Suppressions::may_hide(LeakKind kind) const {
  return std::ranges::any_of(rules_, [kind](const Suppression& rule) { return rule.applies_to(kind); });
}

const SourceStack& suppressed_stack(const ErrorFinding& error) {
  return error.stack.empty() ? error.alloc_stack : error.stack;
}

const Suppression* Suppressions::match_error(const ErrorFinding& error) const {
  return first_match(rules_, suppressed_stack(error),
                     [&error](const Suppression& rule) { return rule.applies_to(error.event.kind); });
}

}  // namespace nantrack
