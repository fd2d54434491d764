// Frame rules read from this test's own .eh_frame, for functions whose call
// frame information is written out by hand below, so that every expected
// rule is known exactly.
#include "tracker/frame_rules.h"

#include <gtest/gtest.h>

#include <atomic>
#include <bit>
#include <thread>
#include <vector>

// A frame-pointer function: the CFA moves from rsp to rbp and back, with
// a remembered state around an early return. Each label marks an address
// whose rule is checked.
asm(R"(
  .text
  .globl rules_fp_function, rules_fp_entry, rules_fp_after_push, rules_fp_body, rules_fp_after_early_return, rules_fp_after_pop
  .type rules_fp_function, @function
rules_fp_function:
  .cfi_startproc
rules_fp_entry:
  push %rbp
  .cfi_def_cfa_offset 16
  .cfi_offset %rbp, -16
rules_fp_after_push:
  mov %rsp, %rbp
  .cfi_def_cfa_register %rbp
rules_fp_body:
  nop
  .cfi_remember_state
  pop %rbp
  .cfi_def_cfa %rsp, 8
  .cfi_restore %rbp
  ret
  .cfi_restore_state
rules_fp_after_early_return:
  nop
  pop %rbp
  .cfi_def_cfa %rsp, 8
rules_fp_after_pop:
  ret
  .cfi_endproc
  .size rules_fp_function, .-rules_fp_function

  .globl rules_big_frame
  .type rules_big_frame, @function
rules_big_frame:
  .cfi_startproc
  push %rbx
  .cfi_def_cfa_offset 16
  .cfi_offset %rbx, -16
  sub $70000, %rsp
  .cfi_def_cfa_offset 70016
  nop
  add $70000, %rsp
  .cfi_def_cfa_offset 16
  pop %rbx
  .cfi_def_cfa_offset 8
  ret
  .cfi_endproc
  .size rules_big_frame, .-rules_big_frame

  .globl rules_cfa_expression
  .type rules_cfa_expression, @function
rules_cfa_expression:
  .cfi_startproc
  nop
  .cfi_escape 0x0f, 0x03, 0x77, 0x08, 0x06
  nop
  ret
  .cfi_endproc
  .size rules_cfa_expression, .-rules_cfa_expression

  .globl rules_signal_frame
  .type rules_signal_frame, @function
rules_signal_frame:
  .cfi_startproc
  .cfi_signal_frame
  nop
  ret
  .cfi_endproc
  .size rules_signal_frame, .-rules_signal_frame

  .globl rules_outermost
  .type rules_outermost, @function
rules_outermost:
  .cfi_startproc
  .cfi_undefined %rip
  nop
  ret
  .cfi_endproc
  .size rules_outermost, .-rules_outermost

  .globl rules_no_cfi
  .type rules_no_cfi, @function
rules_no_cfi:
  nop
  ret
  .size rules_no_cfi, .-rules_no_cfi
)");

extern "C" char rules_fp_entry[], rules_fp_after_push[], rules_fp_body[], rules_fp_after_early_return[],
    rules_fp_after_pop[], rules_big_frame[], rules_cfa_expression[], rules_signal_frame[], rules_outermost[],
    rules_no_cfi[];

namespace nantrack {
namespace {

uintptr_t at(const char* label, int plus = 0) { return reinterpret_cast<uintptr_t>(label) + plus; }

void expect_rule(const FrameRule& rule, bool cfa_from_fp, int32_t cfa_offset, bool fp_saved, int16_t fp_offset) {
  ASSERT_TRUE(rule.supported);
  EXPECT_EQ(rule.cfa_from_fp, cfa_from_fp);
  EXPECT_EQ(rule.cfa_offset, cfa_offset);
  EXPECT_FALSE(rule.ra_undefined);
  EXPECT_EQ(rule.ra_offset, -8);
  EXPECT_EQ(rule.fp_saved, fp_saved);
  if (fp_saved) {
    EXPECT_EQ(rule.fp_offset, fp_offset);
  }
}

TEST(FrameRulesTest, FollowTheCfaFromRspToRbpAndBack) {
  expect_rule(read_frame_rule(at(rules_fp_entry)), false, 8, false, 0);
  expect_rule(read_frame_rule(at(rules_fp_after_push)), false, 16, true, -16);
  expect_rule(read_frame_rule(at(rules_fp_body)), true, 16, true, -16);
  // Inside an instruction (the 3-byte mov) the row is the instruction's own.
  expect_rule(read_frame_rule(at(rules_fp_after_push, 2)), false, 16, true, -16);
  // After the early return the remembered row (rbp-based) is back.
  expect_rule(read_frame_rule(at(rules_fp_after_early_return)), true, 16, true, -16);
  expect_rule(read_frame_rule(at(rules_fp_after_pop)), false, 8, true, -16);
}

TEST(FrameRulesTest, LargeFramesAndOtherSavedRegisters) {
  // sub $70000 is 7 bytes after the 1-byte push: its row starts at +8.
  expect_rule(read_frame_rule(at(rules_big_frame, 8)), false, 70016, false, 0);
  expect_rule(read_frame_rule(at(rules_big_frame, 1)), false, 16, false, 0);
}

TEST(FrameRulesTest, TheOutermostFrameHasNoReturnAddress) {
  FrameRule rule = read_frame_rule(at(rules_outermost));
  ASSERT_TRUE(rule.supported);
  EXPECT_TRUE(rule.ra_undefined);
}

TEST(FrameRulesTest, WhatOnlyLibunwindCanFollowIsUnsupported) {
  EXPECT_TRUE(read_frame_rule(at(rules_cfa_expression)).supported);  // before the expression
  EXPECT_FALSE(read_frame_rule(at(rules_cfa_expression, 1)).supported);
  EXPECT_FALSE(read_frame_rule(at(rules_signal_frame)).supported);
  EXPECT_FALSE(read_frame_rule(at(rules_no_cfi)).supported);
  EXPECT_FALSE(read_frame_rule(0x10).supported);  // no module
}

TEST(FrameRulesTest, TheCacheAnswersAsTheTablesDoInEveryGeneration) {
  FrameRuleCache cache;
  ASSERT_TRUE(cache.init());
  for (uint64_t generation : {1, 2, 1, 3, 0x10000, 0x10001}) {
    for (int again = 0; again < 2; ++again) {
      expect_rule(cache.rule_for(at(rules_fp_body), generation), true, 16, true, -16);
      expect_rule(cache.rule_for(at(rules_fp_entry), generation), false, 8, false, 0);
      EXPECT_FALSE(cache.rule_for(at(rules_signal_frame), generation).supported);
    }
  }
  cache.wipe();
  expect_rule(cache.rule_for(at(rules_fp_body), 1), true, 16, true, -16);
  cache.release();
}

// Threads share the cache: while they fill and overwrite one slot with
// two addresses' rules (a ^ k * 0x10001 lands in a's slot), none may ever
// get the other address's rule.
TEST(FrameRulesTest, ThreadsSharingASlotNeverGetAnotherAddresssRule) {
  FrameRuleCache cache;
  ASSERT_TRUE(cache.init());
  const uintptr_t first = at(rules_fp_body);
  const uint64_t first_rule = std::bit_cast<uint64_t>(read_frame_rule(first));
  uintptr_t second = 0;
  uint64_t second_rule = 0;
  for (uintptr_t k = 1; k < 64 && !second; ++k) {
    uintptr_t candidate = first ^ (k * 0x10001);
    uint64_t rule = std::bit_cast<uint64_t>(read_frame_rule(candidate));
    if (rule != first_rule) second = candidate, second_rule = rule;
  }
  ASSERT_NE(second, 0u) << "no address with another rule shares the slot";
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (uint64_t i = 0; i < 50000; ++i) {
        const uint64_t generation = 1 + (i + t) % 3;
        if (std::bit_cast<uint64_t>(cache.rule_for(first, generation)) != first_rule) ++wrong;
        if (std::bit_cast<uint64_t>(cache.rule_for(second, generation)) != second_rule) ++wrong;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(wrong.load(), 0);
  cache.release();
}

}  // namespace
}  // namespace nantrack
