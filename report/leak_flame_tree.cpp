#include "report/leak_flame_tree.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <ranges>

#include <fmt/format.h>

namespace nantrack {
namespace {

// Built with a map per node so that a path's frames find their node in
// O(log siblings); converted to FlameNode once the sums are final.
struct BuildNode {
  uint64_t bytes = 0;
  uint64_t blocks = 0;
  std::map<std::string, BuildNode> children;
};

void add_path(BuildNode& root, const LeakGroup& leak, size_t max_depth) {
  BuildNode* node = &root;
  node->bytes += leak.bytes;
  node->blocks += leak.blocks;
  size_t depth = 0;
  for (const SourceFrame& frame : leak.stack | std::views::reverse) {
    if (depth++ == max_depth) break;
    node = &node->children[frame_label(frame)];
    node->bytes += leak.bytes;
    node->blocks += leak.blocks;
  }
}

FlameNode finish(std::string name, BuildNode& built, uint64_t min_bytes) {
  FlameNode node{std::move(name), built.bytes, built.blocks, {}};
  FlameNode other{std::string(kFlameOtherName), 0, 0, {}, /*merged=*/true};
  for (auto& [child_name, child] : built.children) {
    if (child.bytes >= min_bytes) {
      node.children.push_back(finish(child_name, child, min_bytes));
    } else {
      other.bytes += child.bytes;
      other.blocks += child.blocks;
    }
  }
  std::ranges::sort(node.children, std::ranges::greater{}, &FlameNode::bytes);
  if (other.bytes > 0) node.children.push_back(std::move(other));
  return node;
}

}  // namespace

std::string frame_label(const SourceFrame& frame) {
  if (!frame.function.empty()) return frame.function;
  if (frame.module.empty()) return fmt::format("{:#x}", frame.address);
  return fmt::format("{}+{:#x}", std::filesystem::path(frame.module).filename().string(), frame.module_offset);
}

FlameNode build_leak_flame_tree(const std::vector<LeakGroup>& leaks, const FlameLimits& limits) {
  BuildNode root;
  for (const LeakGroup& leak : leaks) add_path(root, leak, limits.max_depth);
  // At least one byte: with nothing leaked, nothing is "too small to see".
  const auto min_bytes = std::max<uint64_t>(1, static_cast<uint64_t>(limits.min_fraction * root.bytes));
  return finish("all leaks", root, min_bytes);
}

}  // namespace nantrack
