#include "report/leak_flame_tree.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace nantrack {
namespace {

SourceFrame named(std::string function) { return {.function = std::move(function)}; }

// Innermost first, as stacks are stored.
LeakGroup leak(uint64_t bytes, std::vector<std::string> functions_innermost_first) {
  LeakGroup group{.bytes = bytes, .blocks = 1};
  for (std::string& function : functions_innermost_first) group.stack.push_back(named(std::move(function)));
  return group;
}

size_t count_nodes(const FlameNode& node) {
  size_t count = 1;
  for (const FlameNode& child : node.children) count += count_nodes(child);
  return count;
}

TEST(LeakFlameTreeTest, SumsBytesAlongPathsOutermostCallerFirst) {
  const FlameNode root = build_leak_flame_tree({leak(300, {"make_buffer", "load", "main"}),
                                                leak(100, {"make_name", "load", "main"}),
                                                leak(50, {"parse", "main"})});
  EXPECT_EQ(root.name, "all leaks");
  EXPECT_EQ(root.bytes, 450u);
  EXPECT_EQ(root.blocks, 3u);
  ASSERT_EQ(root.children.size(), 1u);
  const FlameNode& main_node = root.children[0];
  EXPECT_EQ(main_node.name, "main");
  ASSERT_EQ(main_node.children.size(), 2u);
  EXPECT_EQ(main_node.children[0].name, "load");  // biggest first
  EXPECT_EQ(main_node.children[0].bytes, 400u);
  EXPECT_EQ(main_node.children[1].name, "parse");
  ASSERT_EQ(main_node.children[0].children.size(), 2u);
  EXPECT_EQ(main_node.children[0].children[0].name, "make_buffer");
  EXPECT_EQ(main_node.children[0].children[1].bytes, 100u);
}

TEST(LeakFlameTreeTest, MergesSiblingsTooSmallToSeeIntoOther) {
  std::vector<LeakGroup> leaks = {leak(10'000, {"big", "main"})};
  for (int i = 0; i < 1000; ++i) leaks.push_back(leak(1, {"tiny_" + std::to_string(i), "main"}));
  const FlameNode root = build_leak_flame_tree(leaks);
  const FlameNode& main_node = root.children.at(0);
  ASSERT_EQ(main_node.children.size(), 2u);
  EXPECT_EQ(main_node.children[0].name, "big");
  EXPECT_FALSE(main_node.children[0].merged);
  EXPECT_EQ(main_node.children[1].name, kFlameOtherName);
  EXPECT_TRUE(main_node.children[1].merged);
  EXPECT_EQ(main_node.children[1].bytes, 1000u);
  EXPECT_EQ(main_node.children[1].blocks, 1000u);
  EXPECT_TRUE(main_node.children[1].children.empty());
}

// 10,000 equal sites each under 0.5%: one "other" node, not 10,000.
TEST(LeakFlameTreeTest, StaysSmallForManyLeakSites) {
  std::vector<LeakGroup> leaks;
  for (int i = 0; i < 10'000; ++i)
    leaks.push_back(leak(16, {"site_" + std::to_string(i), "dispatch_" + std::to_string(i % 20), "main"}));
  const FlameNode root = build_leak_flame_tree(leaks);
  EXPECT_LE(count_nodes(root), 100u);
  EXPECT_EQ(root.bytes, 160'000u);
}

TEST(LeakFlameTreeTest, StopsAtTheMaximumDepth) {
  std::vector<std::string> deep;
  for (int i = 0; i < 100; ++i) deep.push_back("f" + std::to_string(i));
  const FlameNode root = build_leak_flame_tree({leak(8, deep)}, {.max_depth = 5});
  EXPECT_EQ(count_nodes(root), 6u);
  EXPECT_EQ(root.children[0].name, "f99");  // the outermost caller
}

TEST(LeakFlameTreeTest, NamesUnknownFunctionsByModuleAndOffset) {
  EXPECT_EQ(frame_label({.address = 0x7f001234, .module = "/usr/lib/libz.so.1", .module_offset = 0x1234}),
            "libz.so.1+0x1234");
  EXPECT_EQ(frame_label({.address = 0x1234}), "0x1234");
  EXPECT_EQ(frame_label({.function = "main", .module = "/app"}), "main");
}

TEST(LeakFlameTreeTest, NoLeaksGiveAnEmptyRoot) {
  const FlameNode root = build_leak_flame_tree({});
  EXPECT_EQ(root.bytes, 0u);
  EXPECT_TRUE(root.children.empty());
}

}  // namespace
}  // namespace nantrack
