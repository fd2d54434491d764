#include "tracker/live_bytes.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace nantrack {
namespace {

// Each test runs its changes on fresh threads: the unpublished sums are
// per thread, and the test runner's thread carries them across tests.
template <typename Body>
void on_a_thread(Body body) {
  std::thread(body).join();
}

TEST(LiveBytesTest, OneThreadsPeakIsExactBelowThePublishingThreshold) {
  LiveBytes live;
  live.start();
  int64_t peak = 0;
  on_a_thread([&] {
    live.add(100);
    live.add(200);
    live.add(-300);
    live.add(50);
    peak = live.publish_and_peak();
  });
  EXPECT_EQ(peak, 300);
}

TEST(LiveBytesTest, OneThreadsPeakIsExactAcrossPublications) {
  LiveBytes live;
  live.start();
  int64_t peak = 0;
  on_a_thread([&] {
    // Up to 10 MB in 1000-byte steps (publishing every 64 KiB), one byte
    // more in the middle of a step, then down and up again below it.
    for (int i = 0; i < 10'000; ++i) live.add(1000);
    live.add(1);
    live.add(-1);
    for (int i = 0; i < 5'000; ++i) live.add(-1000);
    for (int i = 0; i < 4'000; ++i) live.add(1000);
    peak = live.publish_and_peak();
  });
  EXPECT_EQ(peak, 10'000'001);
}

// Two threads, one after the other: the second's peak sits on what the
// first still holds, which it published when it exited.
TEST(LiveBytesTest, TwoThreadsInTurnGiveTheExactPeak) {
  LiveBytes live;
  live.start();
  on_a_thread([&] {
    for (int i = 0; i < 100; ++i) live.add(1000);  // 100,000 bytes kept
    live.add(30'000);
    live.add(-30'000);  // below the threshold: published only at exit
  });
  on_a_thread([&] {
    live.add(20'000);
    live.add(-20'000);
  });
  int64_t peak = 0;
  on_a_thread([&] {
    live.add(-100'000);  // another thread frees the first one's blocks
    peak = live.publish_and_peak();
  });
  EXPECT_EQ(peak, 130'000);
}

// Two threads at once, each holding 2 MB at the moment both wait: the peak
// is 4 MB, within one publishing threshold per thread.
TEST(LiveBytesTest, ConcurrentThreadsPeakIsWithinTheThresholdPerThread) {
  LiveBytes live;
  live.start();
  std::atomic<int> holding{0};
  auto worker = [&] {
    for (int i = 0; i < 2048; ++i) live.add(1024);
    holding.fetch_add(1);
    while (holding.load() < 2) std::this_thread::yield();
    for (int i = 0; i < 2048; ++i) live.add(-1024);
  };
  std::thread a(worker), b(worker);
  a.join();
  b.join();
  int64_t peak = 0;
  on_a_thread([&] { peak = live.publish_and_peak(); });
  EXPECT_GE(peak, 4 * 1024 * 1024 - 2 * LiveBytes::kPublishBytes);
  EXPECT_LE(peak, 4 * 1024 * 1024 + 2 * LiveBytes::kPublishBytes);
}

}  // namespace
}  // namespace nantrack
