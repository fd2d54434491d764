#include "report/module_index.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace nantrack {
namespace {

Module module_at(uint64_t start, uint64_t size) {
  return {.path = "/lib" + std::to_string(start) + ".so", .segments = {{.start = start, .size = size}}};
}

TEST(ModuleIndexTest, FindsTheModuleWhoseSegmentHoldsTheAddress) {
  std::vector<Module> modules = {module_at(0x3000, 0x1000), module_at(0x1000, 0x1000)};
  modules[0].segments.push_back({.start = 0x5000, .size = 0x100});
  ModuleIndex index(modules);

  EXPECT_EQ(index.find(0x1000), 1u);
  EXPECT_EQ(index.find(0x1fff), 1u);
  EXPECT_EQ(index.find(0x3800), 0u);
  EXPECT_EQ(index.find(0x50ff), 0u);
  for (uint64_t outside : {0x0ull, 0x2000ull, 0x4000ull, 0x5100ull, ~0ull}) EXPECT_EQ(index.find(outside), std::nullopt);
}

// A library dlclose'd and another mapped over its range: the first listed wins,
// as in Trace::module_at, even when a later one starts closer to the address.
TEST(ModuleIndexTest, OverlappingModulesResolveToTheFirstListed) {
  std::vector<Module> modules = {module_at(0x1000, 0x10000), module_at(0x2000, 0x1000), module_at(0x20000, 0x100)};
  ModuleIndex index(modules);

  EXPECT_EQ(index.find(0x2800), 0u);
  EXPECT_EQ(index.find(0x10fff), 0u);
  EXPECT_EQ(index.find(0x20000), 2u);
  std::reverse(modules.begin(), modules.end());
  EXPECT_EQ(ModuleIndex(modules).find(0x2800), 1u);
}

TEST(ModuleIndexTest, CorruptSegmentsDoNotMatchOrWrap) {
  std::vector<Module> modules = {module_at(0x1000, 0), module_at(~0ull - 0xf, 0x100), {}};
  ModuleIndex index(modules);

  EXPECT_EQ(index.find(0x1000), std::nullopt);
  EXPECT_EQ(index.find(~0ull - 1), 1u);
  EXPECT_EQ(index.find(0x10), std::nullopt);
  EXPECT_EQ(ModuleIndex({}).find(0), std::nullopt);
}

}  // namespace
}  // namespace nantrack
