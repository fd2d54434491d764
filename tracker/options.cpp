#include "tracker/options.h"

#include <string_view>

#include "tracker/text_buffer.h"

namespace nantrack {
namespace {

bool parse_bool(std::string_view value, bool& out) {
  if (value == "1" || value == "true" || value == "yes" || value == "on") return out = true, true;
  if (value == "0" || value == "false" || value == "no" || value == "off") return out = false, true;
  return false;
}

bool parse_unsigned(std::string_view value, uint64_t& out, bool allow_suffix) {
  if (value.empty()) return false;
  uint64_t result = 0;
  size_t i = 0;
  for (; i < value.size() && value[i] >= '0' && value[i] <= '9'; ++i) {
    uint64_t digit = static_cast<uint64_t>(value[i] - '0');
    if (result > (UINT64_MAX - digit) / 10) return false;
    result = result * 10 + digit;
  }
  if (i == 0) return false;
  if (i < value.size()) {
    if (!allow_suffix || i + 1 != value.size()) return false;
    int shift = 0;
    switch (value[i] | 0x20) {  // lower case
      case 'k': shift = 10; break;
      case 'm': shift = 20; break;
      case 'g': shift = 30; break;
      default: return false;
    }
    if (result > (UINT64_MAX >> shift)) return false;
    result <<= shift;
  }
  out = result;
  return true;
}

// How the messages of each source read.
struct Phrasing {
  const char* prefix;
  const char* in_where;
  const char* bad_value;   // after why a value is bad
  const char* bad_item;    // after an unknown key or an item without '='
  const char* end;
};
constexpr Phrasing kEnvironment{"nantrack: ", " in NANTRACK_OPTIONS", " (using the default)", " (ignored; see help=1)", "\n"};
constexpr Phrasing kRunCommand{"", "", "", " (NANTRACK_OPTIONS=help=1 lists the options)", ""};

struct Problem {
  InlineText<512> text;
  Problem(std::string_view key, const Phrasing& phrasing) {
    text << phrasing.prefix << "option '" << key << "'" << phrasing.in_where << ": ";
  }
};

// Each typed setter returns false (and fills `why`) when the value is bad.
bool set_option(bool& field, std::string_view value, int64_t, int64_t, TextBuffer& why) {
  if (parse_bool(value, field)) return true;
  why << "expected 0 or 1, got '" << value << "'";
  return false;
}

bool set_ranged(uint64_t& result, std::string_view value, uint64_t min, uint64_t max, bool sizes, TextBuffer& why) {
  uint64_t parsed = 0;
  if (!parse_unsigned(value, parsed, sizes)) {
    why << "expected " << (sizes ? "a size such as 65536, 64k or 64m" : "a whole number") << ", got '" << value << "'";
    return false;
  }
  if (parsed < min || parsed > max) {
    why << "value " << parsed << " is outside " << min << ".." << max;
    return false;
  }
  result = parsed;
  return true;
}

// Whole numbers may be negative: -1 switches a fill byte off.
bool set_option(int64_t& field, std::string_view value, int64_t min, int64_t max, TextBuffer& why) {
  const bool negative = value.starts_with('-');
  uint64_t magnitude = 0;
  if (!parse_unsigned(negative ? value.substr(1) : value, magnitude, false) || magnitude > uint64_t{INT64_MAX}) {
    why << "expected a whole number, got '" << value << "'";
    return false;
  }
  const int64_t parsed = negative ? -static_cast<int64_t>(magnitude) : static_cast<int64_t>(magnitude);
  if (parsed < min || parsed > max) {
    why << "value " << parsed << " is outside " << min << ".." << max;
    return false;
  }
  field = parsed;
  return true;
}

bool set_option(uint64_t& field, std::string_view value, uint64_t min, uint64_t max, TextBuffer& why) {
  return set_ranged(field, value, min, max, true, why);
}

bool set_option(PathOption& field, std::string_view value, int64_t, int64_t, TextBuffer& why) {
  if (value.empty() || value.size() >= sizeof(field.text)) {
    why << (value.empty() ? "expected a path, got nothing" : "path is too long");
    return false;
  }
  for (size_t i = 0; i < value.size(); ++i) field.text[i] = value[i];
  field.text[value.size()] = '\0';
  return true;
}

// Returns false if no option has this key.
bool apply(Options& options, std::string_view key, std::string_view value, OptionErrorSink sink,
           const Phrasing& phrasing, int& problems) {
#define NANTRACK_OPTION(type, name, default_value, min, max, help)             \
  if (key == #name) {                                                          \
    Problem problem(key, phrasing);                                            \
    if (!set_option(options.name, value, min, max, problem.text)) {            \
      problem.text << phrasing.bad_value << phrasing.end;                      \
      sink(problem.text.c_str());                                              \
      ++problems;                                                              \
    }                                                                          \
    return true;                                                               \
  }
#include "tracker/options.def"
#undef NANTRACK_OPTION
  return false;
}

}  // namespace

int parse_options(const char* text, Options& options, OptionErrorSink sink, OptionsSource source) {
  const Phrasing& phrasing = source == OptionsSource::Environment ? kEnvironment : kRunCommand;
  int problems = 0;
  std::string_view rest = text ? text : "";
  while (!rest.empty()) {
    // substr() can throw, which would pull libstdc++ into every traced
    // process: split with plain views. A value in quotes (" or ', as
    // sanitizers take them) may hold ':' (a path).
    size_t end = rest.find(':');
    const size_t equals_at = rest.find('=');
    bool unterminated = false;
    if (equals_at != std::string_view::npos && equals_at < end && equals_at + 1 < rest.size() &&
        (rest[equals_at + 1] == '"' || rest[equals_at + 1] == '\'')) {
      // The item ends after the closing quote; with none, the text ends it.
      const size_t closing = rest.find(rest[equals_at + 1], equals_at + 2);
      unterminated = closing == std::string_view::npos || (closing + 1 < rest.size() && rest[closing + 1] != ':');
      end = closing == std::string_view::npos ? std::string_view::npos : rest.find(':', closing + 1);
    }
    std::string_view item = rest;
    if (end == std::string_view::npos) {
      rest = {};
    } else {
      item = {rest.data(), end};
      rest.remove_prefix(end + 1);
    }
    if (item.empty()) continue;
    // An item skipped whole: "'item' in NANTRACK_OPTIONS <why> (ignored...)".
    auto skip = [&](const char* why) {
      InlineText<512> message;
      message << phrasing.prefix << "'" << item << "'" << phrasing.in_where << why << phrasing.bad_item << phrasing.end;
      sink(message.c_str());
      ++problems;
    };
    if (unterminated) {
      skip(" has a quote that does not end its value");
      continue;
    }
    size_t equals = item.find('=');
    std::string_view key = equals == std::string_view::npos ? item : std::string_view(item.data(), equals);
    if (equals == std::string_view::npos) {
      skip(" is not key=value");
      continue;
    }
    std::string_view value(item.data() + equals + 1, item.size() - equals - 1);
    if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') && value.back() == value.front())
      value = std::string_view(value.data() + 1, value.size() - 2);
    if (!apply(options, key, value, sink, phrasing, problems)) {
      InlineText<512> message;
      message << phrasing.prefix << "unknown option '" << key << "'" << phrasing.in_where << phrasing.bad_item
              << phrasing.end;
      sink(message.c_str());
      ++problems;
    }
  }
  return problems;
}

namespace {
void print_value(TextBuffer& out, bool value) { out << (value ? "1" : "0"); }
void print_value(TextBuffer& out, int64_t value) { out << value; }
void print_value(TextBuffer& out, uint64_t value) { out << value; }
void print_value(TextBuffer& out, const PathOption& value) { out << value.text; }
}  // namespace

void print_options_help(int fd) {
  write_all(fd, "nantrack options, set as NANTRACK_OPTIONS=\"key=value:key=value\":\n");
  const Options defaults;
#define NANTRACK_OPTION(type, name, default_value, min, max, help) \
  {                                                                \
    InlineText<1024> line;                                         \
    line << "  " #name "=";                                        \
    print_value(line, defaults.name);                              \
    line << "\n      " help "\n";                                  \
    write_all(fd, line.view());                                    \
  }
#include "tracker/options.def"
#undef NANTRACK_OPTION
}

}  // namespace nantrack
