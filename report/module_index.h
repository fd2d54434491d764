// Which module of a trace's module map holds an address.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "report/trace.h"

namespace nantrack {

class ModuleIndex {
 public:
  explicit ModuleIndex(const std::vector<Module>& modules);

  // Index into the module map of the module whose segments contain the
  // address. Modules can overlap (a library dlclose'd and another one mapped
  // at the same place later): then the first in map order wins.
  std::optional<size_t> find(uint64_t address) const;

 private:
  struct Range {
    uint64_t start = 0;
    uint64_t end = 0;  // exclusive
    size_t module = 0;
  };
  std::vector<Range> ranges_;  // one per segment, sorted by start
  // max_end_[i] is the largest end among ranges_[0..i]: the backwards scan in
  // find() stops as soon as no earlier range can reach the address.
  std::vector<uint64_t> max_end_;
};

}  // namespace nantrack
