#include "report/trace.h"

#include <algorithm>

#include <fmt/format.h>

namespace nantrack {

bool Module::contains(uint64_t address) const {
  // `address - start < size` rather than `address < start + size`: a segment
  // at the top of the address space must not wrap around.
  return std::ranges::any_of(segments, [address](const Segment& segment) {
    return address >= segment.start && address - segment.start < segment.size;
  });
}

const Stack& Trace::stack(StackId id) const {
  static const Stack kEmpty;
  const auto found = stacks.find(id);
  return found == stacks.end() ? kEmpty : found->second;
}

// A dlclose'd module and one loaded after it may share an address range; the
// trace cannot tell which one a pc meant, so the first one listed wins.
const Module* Trace::module_at(uint64_t address) const {
  const auto found =
      std::ranges::find_if(modules, [address](const Module& module) { return module.contains(address); });
  return found == modules.end() ? nullptr : &*found;
}

std::string hex_of(std::string_view bytes) {
  std::string digits;
  for (const char byte : bytes) digits += fmt::format("{:02x}", static_cast<unsigned char>(byte));
  return digits;
}

}  // namespace nantrack
