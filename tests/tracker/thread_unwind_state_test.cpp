#include "tracker/thread_unwind_state.h"

#include <gtest/gtest.h>

#include <csignal>
#include <thread>

#include "tracker/proc_maps.h"
#include "tracker/signal_stack.h"

namespace nantrack {
namespace {

// A fake stack the cache reads (UnwindCache reads words at caller.sp +
// offset): one for every thread of the test, so that a stale cache would
// find its words unchanged.
alignas(16) uint64_t g_stack[8] = {0x5000, 0x5001, 0x5002, 0x5003, 0x5004, 0x5005, 0x5006, 0x5007};
const CallerFrame kCaller{0x401234, reinterpret_cast<uintptr_t>(g_stack), 0};

class ThreadUnwindStateTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    UnwindCache::choose_hash_keys();
    start_thread_unwind_states(true);
  }

  // On a new thread: takes its state at its first unwind, caches `stack`
  // for kCaller (an unwind that read the fake stack's first two words) and
  // notes a sighting of it. Returns the state.
  static ThreadUnwindState* cache_in_a_thread(StackId stack) {
    ThreadUnwindState* state = nullptr;
    std::thread([&] {
      state = this_thread_unwind_state();
      ASSERT_NE(state, nullptr);
      auto recording = std::make_unique<UnwindRecording>();
      recording->read_count = 2;
      for (uint32_t i = 0; i < 2; ++i) {
        recording->offsets[i] = i * 8;
        recording->values[i] = g_stack[i];
      }
      state->cache.insert(kCaller, *recording, stack);
      state->cache.note_sighting(kCaller, stack);
      EXPECT_EQ(state->cache.find(kCaller), stack);
    }).join();
    return state;
  }
};

// A thread's state goes back to the pool when the thread exits, and the next
// thread gets it: by the time that thread unwinds, nothing the first one
// cached may answer (another thread's stack may have been at the same sp,
// with less of it above). Here the next thread takes it at its first
// unwind, as a thread libc started does.
TEST_F(ThreadUnwindStateTest, AStateFromThePoolIsEmptiedBeforeItsNextThreadUnwinds) {
  ThreadUnwindState* first = cache_in_a_thread(42);
  std::thread([&] {
    ThreadUnwindState* next = this_thread_unwind_state();
    ASSERT_EQ(next, first) << "the pool should have handed on the first thread's state";
    EXPECT_EQ(next->cache.find(kCaller), kNoStack);
    EXPECT_EQ(next->cache.note_sighting(kCaller, 42), UnwindCache::Sighting::First);
  }).join();
}

// A thread that takes the state as it starts and never unwinds passes it on
// unemptied: it is still emptied before the next thread's first unwind.
TEST_F(ThreadUnwindStateTest, AStateStaysToBeEmptiedThroughThreadsThatNeverUnwind) {
  ThreadUnwindState* first = cache_in_a_thread(43);
  // Takes the state as it starts, as every thread the program creates does
  // (preload/thread_hooks.cpp), and does nothing else.
  std::thread([&] {
    take_this_thread_unwind_state();
    EXPECT_EQ(t_unwind_state, first);
  }).join();
  std::thread([&] {
    ThreadUnwindState* next = this_thread_unwind_state();
    ASSERT_EQ(next, first);
    EXPECT_EQ(next->cache.find(kCaller), kNoStack);
    EXPECT_EQ(next->cache.note_sighting(kCaller, 43), UnwindCache::Sighting::First);
  }).join();
}

// The mapping of this process that holds `address`.
Mapping mapping_at(uintptr_t address) {
  ProcMaps maps;
  Mapping mapping;
  while (maps.next(mapping))
    if (address >= mapping.start && address < mapping.end) return mapping;
  return {};
}

// A thread takes its state as it starts, and with it an alternate signal
// stack, installed; a guard page below it stops a handler that runs off
// its end, instead of its writing over whatever is mapped there.
TEST_F(ThreadUnwindStateTest, AStartingThreadGetsAnAlternateStackWithAGuardPage) {
  std::thread([] {
    take_this_thread_unwind_state();
    const ThreadUnwindState* state = t_unwind_state;
    ASSERT_NE(state, nullptr);
    ASSERT_NE(state->signal_stack, nullptr);
    stack_t installed{};
    ASSERT_EQ(sigaltstack(nullptr, &installed), 0);
    EXPECT_EQ(installed.ss_sp, state->signal_stack);
    EXPECT_EQ(installed.ss_size, kSignalStackBytes);
    const auto low = reinterpret_cast<uintptr_t>(state->signal_stack);
    const Mapping guard = mapping_at(low), usable = mapping_at(low + 4096);
    EXPECT_FALSE(guard.readable || guard.writable) << "the lowest page";
    EXPECT_TRUE(usable.readable && usable.writable);
    EXPECT_GE(usable.end, low + kSignalStackBytes);
  }).join();
}

}  // namespace
}  // namespace nantrack
