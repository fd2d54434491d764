#include "report/demangle.h"

#include <cxxabi.h>
#include <libiberty/demangle.h>

#include <cstdlib>
#include <memory>

namespace nantrack {
namespace {

struct FreeDeleter {
  void operator()(char* text) const { std::free(text); }
};
using MallocedText = std::unique_ptr<char, FreeDeleter>;

}  // namespace

std::optional<std::string> demangle(std::string_view linkage_name) {
  const std::string name(linkage_name);  // both demanglers want it terminated
  // libiberty's Rust demangler (the one binutils and valgrind use) tells a
  // Rust name from a C++ one: "_R" for v0, and for legacy names, which are
  // Itanium-shaped, the "17h<16 hex digits>E" hash at their end. It is
  // asked first, so that a legacy name loses that hash.
  if (linkage_name.starts_with("_R") || linkage_name.starts_with("_ZN")) {
    if (MallocedText rust{rust_demangle(name.c_str(), 0)}) return std::string(rust.get());
  }
  if (!linkage_name.starts_with("_Z")) return std::nullopt;
  int status = 0;
  MallocedText readable{abi::__cxa_demangle(name.c_str(), nullptr, nullptr, &status)};
  if (status != 0 || !readable) return std::nullopt;
  return std::string(readable.get());
}

}  // namespace nantrack
