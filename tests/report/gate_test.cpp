#include "report/gate.h"

#include <gtest/gtest.h>

namespace nantrack {
namespace {

Report report_with_leak(LeakKind kind) {
  ProcessReport process;
  process.leaks.push_back({.kind = kind, .bytes = 16, .blocks = 1});
  return {.processes = {process}};
}

TEST(GateTest, DefaultFailsOnDefiniteAndPossibleLeaksOnly) {
  const FailOn fail_on = FailOn::defaults();
  EXPECT_TRUE(decide_gate(report_with_leak(LeakKind::Definite), fail_on, {}, 1).tripped);
  EXPECT_TRUE(decide_gate(report_with_leak(LeakKind::Possible), fail_on, {}, 1).tripped);
  EXPECT_FALSE(decide_gate(report_with_leak(LeakKind::Indirect), fail_on, {}, 1).tripped);
  EXPECT_FALSE(decide_gate(report_with_leak(LeakKind::Reachable), fail_on, {}, 1).tripped);
}

TEST(GateTest, FailOnChoosesTheKinds) {
  EXPECT_TRUE(decide_gate(report_with_leak(LeakKind::Indirect), FailOn::parse("indirect"), {}, 1).tripped);
  EXPECT_FALSE(decide_gate(report_with_leak(LeakKind::Possible), FailOn::parse("definite"), {}, 1).tripped);
}

}  // namespace
}  // namespace nantrack
