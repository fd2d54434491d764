// churn [pairs] [threads]: the allocation pattern of a busy server or
// compiler. `pairs` small malloc/free pairs (16-256 bytes), each issued
// 12-20 frames deep from one of ~1000 distinct call paths, while a few hundred
// blocks stay live. With several threads the same pairs are split between
// them and allocate concurrently, which shows contention inside a tracker.
#include <cstdint>
#include <cstdlib>
#include <thread>
#include <vector>

#include "bench/call_chain.h"

namespace {

constexpr uint64_t kDefaultPairs = 5'000'000;
constexpr int kLiveBlocks = 384;        // over all threads
constexpr uint32_t kDistinctPaths = 1024;
// Frames at the malloc call besides the chain: churn_leaf, descend,
// run_pairs and main (or the thread's entry).
constexpr int kMinChainDepth = 8;
constexpr int kChainDepthSpread = 9;    // chain depths 8..16: stacks 12..20

struct ThreadState {
  std::vector<void*> live;  // slots: each pair frees one slot's block and refills it
  uint64_t rng;
  uint32_t path;  // of the pair being issued
};

uint64_t xorshift(uint64_t& s) {
  s ^= s << 13;
  s ^= s >> 7;
  s ^= s << 17;
  return s;
}

// The pair itself, at the bottom of the chain. Like a real allocation site,
// each path allocates one of a few sizes typical of it (sizes over all paths
// span 16-256 bytes).
uint64_t churn_leaf(void* opaque) {
  auto& state = *static_cast<ThreadState*>(opaque);
  const uint64_t r = xorshift(state.rng);
  void*& slot = state.live[r % state.live.size()];
  free(slot);
  const size_t size = 16 + state.path % 217 + (r >> 32) % 4 * 8;
  auto* block = static_cast<unsigned char*>(malloc(size));
  block[0] = static_cast<unsigned char>(r);
  slot = block;
  bench::sink = reinterpret_cast<uintptr_t>(block);
  return r;
}

[[gnu::noinline]] void run_pairs(uint64_t pairs, int live_blocks, uint64_t seed) {
  ThreadState state{std::vector<void*>(live_blocks, nullptr), seed, 0};
  for (uint64_t i = 0; i < pairs; ++i) {
    // A multiplicative hash spreads the path bits so every level varies.
    state.path = static_cast<uint32_t>(xorshift(state.rng) % kDistinctPaths) * 2654435761u;
    const int depth = kMinChainDepth + static_cast<int>(state.path >> 7) % kChainDepthSpread;
    bench::sink = bench::descend(state.path, depth, churn_leaf, &state);
  }
  for (void* block : state.live) free(block);
}

}  // namespace

int main(int argc, char** argv) {
  const uint64_t pairs = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : kDefaultPairs;
  const int threads = argc > 2 ? std::atoi(argv[2]) : 1;
  if (threads < 1) return 2;
  if (threads == 1) {
    run_pairs(pairs, kLiveBlocks, 0x9e3779b97f4a7c15u);
    return 0;
  }
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    const uint64_t share = pairs / threads + (t < static_cast<int>(pairs % threads) ? 1 : 0);
    workers.emplace_back(run_pairs, share, kLiveBlocks / threads, 0x9e3779b97f4a7c15u + t);
  }
  for (auto& worker : workers) worker.join();
  return 0;
}
