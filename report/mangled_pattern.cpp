#include "report/mangled_pattern.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <utility>

#include "report/demangle.h"

namespace nantrack {
namespace {

// The operators whose mangled names valgrind's own suppressions start with.
constexpr std::array<std::pair<std::string_view, std::string_view>, 4> kAllocationOperators = {{
    {"nw", "operator new"},
    {"na", "operator new[]"},
    {"dl", "operator delete"},
    {"da", "operator delete[]"},
}};

// The plain names a mangled prefix starts with, joined by "::": enough of
// <nested-name> (Itanium C++ ABI) for "_ZN5boost6detail", "_ZNSt6vector",
// "_ZNK3Foo3bar" or "_ZL6helper". Stops at the first thing it does not
// know (template arguments, constructors, ...); a name cut short by the end
// of the prefix is kept as far as it goes.
std::string leading_names(std::string_view mangled) {
  size_t at = 2;  // past "_Z"
  for (const auto& [code, name] : kAllocationOperators) {
    if (mangled.substr(at, 2) == code) return std::string(name);
  }
  if (mangled.substr(at, 1) == "N") ++at;
  while (at < mangled.size() && std::string_view("rVKROL").find(mangled[at]) != std::string_view::npos) ++at;

  std::string names;
  while (at < mangled.size()) {
    std::string_view next;
    if (mangled.substr(at, 2) == "St") {
      next = "std";
      at += 2;
    } else if (std::isdigit(static_cast<unsigned char>(mangled[at]))) {
      const size_t digits_end = std::min(mangled.find_first_not_of("0123456789", at), mangled.size());
      if (digits_end - at > 6) break;  // no identifier is that long: not a name we understand
      const size_t length = std::stoul(std::string(mangled.substr(at, digits_end - at)));
      at = digits_end;
      next = mangled.substr(at, length);
      at += next.size();
    } else {
      break;
    }
    if (!names.empty()) names += "::";
    names += next;
  }
  return names;
}

}  // namespace

std::string demangled_pattern(std::string_view pattern) {
  const size_t wildcard = pattern.find_first_of("*?");
  if (wildcard == std::string_view::npos) return demangle(pattern).value_or(std::string(pattern));
  if (!pattern.starts_with("_Z")) return std::string(pattern);
  // What follows the wildcard is still mangled and cannot be matched against
  // a demangled name: dropping it makes the pattern broader, never narrower.
  const std::string names = leading_names(pattern.substr(0, wildcard));
  return names.empty() ? std::string(pattern) : names + "*";
}

}  // namespace nantrack
