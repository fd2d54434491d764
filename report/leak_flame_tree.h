// Leaked bytes by call path, outermost caller first: the tree an icicle (an
// upside-down flame graph) draws. Its size is bounded whatever the number of
// leak sites, so a page can draw every node: siblings too small to see are
// merged into one "other" node and paths stop at a maximum depth.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "report/report_model.h"

namespace nantrack {

struct FlameNode {
  std::string name;  // function, or module+offset when unknown; "all leaks" at the root
  uint64_t bytes = 0;
  uint64_t blocks = 0;
  std::vector<FlameNode> children;  // biggest first, then the merged node if any
  bool merged = false;  // the "other" node: siblings too small to draw
};

struct FlameLimits {
  // Children with less than this fraction of all leaked bytes are merged into
  // one "other" child: at 0.5% a level holds at most 200 nodes plus "other".
  double min_fraction = 0.005;
  size_t max_depth = 48;  // frames below this depth are folded into their ancestor
};

inline constexpr std::string_view kFlameOtherName = "other";

// A frame's label in the tree, the stack tables and the page's tooltips.
std::string frame_label(const SourceFrame& frame);

FlameNode build_leak_flame_tree(const std::vector<LeakGroup>& leaks, const FlameLimits& limits = {});

}  // namespace nantrack
