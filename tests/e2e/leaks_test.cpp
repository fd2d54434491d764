// Leaks are in the trace with their exact bytes, blocks and stacks.
#include <gtest/gtest.h>

#include <algorithm>

#include "tests/e2e/traced_run.h"

namespace nantrack::testing {
namespace {

TEST(Leaks, ExactBytesBlocksAndStacks) {
  RunResult result = run({program("leak_stack")});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, "leak_stack leaky\n");
  const Trace& trace = result.only_trace();
  auto kilobytes = blocks_of_size(trace, 1024);
  // stdout's buffer is also 1024 bytes: count only ours, by stack.
  int from_leak_kilobytes = 0;
  for (const LiveBlock* block : kilobytes)
    if (stack_has(trace, block->stack, "leak_kilobytes")) {
      ++from_leak_kilobytes;
      std::vector<std::string> names = function_names(trace, block->stack);
      ASSERT_GE(names.size(), 2u);
      EXPECT_EQ(names[0], "leak_kilobytes");  // innermost first, no nantrack frame
      EXPECT_EQ(names[1], "main");
    }
  EXPECT_EQ(from_leak_kilobytes, 3);
}

TEST(Leaks, FortyDeepRecursionIsRecordedWhole) {
  RunResult result = run({program("leak_stack")});
  const Trace& trace = result.only_trace();
  auto blocks = blocks_of_size(trace, 77);
  ASSERT_EQ(blocks.size(), 1u);
  std::vector<std::string> names = function_names(trace, blocks[0]->stack);
  EXPECT_EQ(std::count(names.begin(), names.end(), "recurse"), 40);
  EXPECT_NE(std::find(names.begin(), names.end(), "main"), names.end());
}

TEST(Leaks, StackDepthOptionLimitsFrames) {
  RunResult result = run({program("leak_stack")}, {.nantrack_options = "stack_depth=5"});
  const Trace& trace = result.only_trace();
  auto blocks = blocks_of_size(trace, 77);
  ASSERT_EQ(blocks.size(), 1u);
  EXPECT_EQ(trace.stack(blocks[0]->stack).size(), 5u);
}

// Blocks past 128 MiB keep full records beside the compact ones of the
// others (tracker/live_blocks.h): they are freed, grown (also across
// 128 MiB) and leaked as any.
TEST(Leaks, BlocksPast128MiBAreTrackedAsAnyOther) {
  RunResult result = run({program("large_blocks")});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, "large_blocks done\n");
  const Trace& trace = result.only_trace();
  EXPECT_TRUE(trace.errors.empty()) << result.err;
  for (uint64_t size : {uint64_t{200} << 20, uint64_t{150} << 20, (uint64_t{128} << 20) + 64}) {
    auto blocks = blocks_of_size(trace, size);
    ASSERT_EQ(blocks.size(), 1u) << size << " bytes";
    EXPECT_EQ(blocks[0]->leak_kind, 1) << size << " bytes, definite";
    EXPECT_TRUE(stack_has(trace, blocks[0]->stack, "main")) << size << " bytes";
  }
  EXPECT_EQ(blocks_of_size(trace, uint64_t{150} << 20)[0]->kind, AllocKind::Realloc);
  EXPECT_EQ(blocks_of_size(trace, (uint64_t{128} << 20) + 64)[0]->kind, AllocKind::Realloc);
  EXPECT_TRUE(blocks_of_size(trace, uint64_t{100} << 20).empty());
  EXPECT_TRUE(blocks_of_size(trace, uint64_t{300} << 20).empty());
}

TEST(Leaks, FreedBlocksAreNotLeaks) {
  RunResult result = run({program("leak_stack"), "clean"});
  const Trace& trace = result.only_trace();
  EXPECT_TRUE(blocks_of_size(trace, 77).empty());
  for (const LiveBlock& block : trace.live_blocks) EXPECT_FALSE(stack_has(trace, block.stack, "leak_kilobytes"));
}

TEST(Leaks, DlclosedModuleStaysInTheMapAndSymbolizes) {
  RunResult result = run({program("dlopen_leak"), program("libleaky_plugin.so")});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, "plugin unloaded\n");
  const Trace& trace = result.only_trace();
  auto blocks = blocks_of_size(trace, 4242);
  ASSERT_EQ(blocks.size(), 1u);
  const Module* plugin = nullptr;
  for (const Module& module : trace.modules)
    if (module.path.find("libleaky_plugin.so") != std::string::npos) plugin = &module;
  ASSERT_NE(plugin, nullptr) << "plugin missing from the module map";
  EXPECT_TRUE(plugin->unloaded);
  EXPECT_FALSE(plugin->build_id.empty());
  EXPECT_EQ(trace.module_at(trace.stack(blocks[0]->stack)[0]), plugin);
  EXPECT_EQ(function_names(trace, blocks[0]->stack)[0], "plugin_leak");
}

TEST(Leaks, DlopenKeepsTheCallersRunpath) {
  // A bare name is found through dlopen_leak's RUNPATH ($ORIGIN) only if
  // glibc still sees dlopen_leak, not libnantrack.so, as the caller.
  RunResult result = run({program("dlopen_leak"), "libleaky_plugin.so"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, "plugin unloaded\n");
  EXPECT_EQ(blocks_of_size(result.only_trace(), 4242).size(), 1u);
}

TEST(Leaks, DeepbindLibrariesAreTrackedNotReportedAsInvalidFrees) {
  RunResult result = run({program("dlopen_leak"), program("libleaky_plugin.so"), "deepbind"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.err.find("RTLD_DEEPBIND): opened without RTLD_DEEPBIND"), std::string::npos) << result.err;
  const Trace& trace = result.only_trace();
  EXPECT_TRUE(trace.errors.empty()) << result.err;  // the plugin's block was freed through us
  EXPECT_EQ(blocks_of_size(trace, 4242).size(), 1u);
}

}  // namespace
}  // namespace nantrack::testing
