#include "report/module_index.h"

#include <algorithm>

namespace nantrack {

ModuleIndex::ModuleIndex(const std::vector<Module>& modules) {
  for (size_t module = 0; module < modules.size(); ++module) {
    for (const Segment& segment : modules[module].segments) {
      if (segment.size == 0) continue;
      // A corrupt segment reaching past the top of the address space ends there.
      uint64_t end = segment.start + segment.size < segment.start ? UINT64_MAX : segment.start + segment.size;
      ranges_.push_back({segment.start, end, module});
    }
  }
  std::sort(ranges_.begin(), ranges_.end(),
            [](const Range& a, const Range& b) { return a.start < b.start; });
  max_end_.reserve(ranges_.size());
  for (const Range& range : ranges_)
    max_end_.push_back(max_end_.empty() ? range.end : std::max(max_end_.back(), range.end));
}

std::optional<size_t> ModuleIndex::find(uint64_t address) const {
  auto after = std::upper_bound(ranges_.begin(), ranges_.end(), address,
                                [](uint64_t a, const Range& range) { return a < range.start; });
  std::optional<size_t> found;
  // Without overlaps this looks at one range; with them, at the few that overlap.
  for (size_t i = after - ranges_.begin(); i-- > 0 && max_end_[i] > address;) {
    if (ranges_[i].end > address && (!found || ranges_[i].module < *found)) found = ranges_[i].module;
  }
  return found;
}

}  // namespace nantrack
