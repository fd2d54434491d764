// The cost of one malloc/free pair, called from main-like depth (1 frame)
// and from the middle of a realistic stack (15 and 30 frames): the
// unwinding a tracker does per allocation grows with depth. bench/run-bench
// runs this natively, under libnantrack.so with unwind_cache=0 (libunwind
// on every call) and with the default unwind cache, and prints the ratios.
//
// The BM_Tracker* benchmarks time the tracker's own per-call operations
// directly (linked in, no LD_PRELOAD needed): interning a stack that is
// already in the depot, a block-table insert and erase, an unwind-cache hit.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdlib>
#include <memory>

#include "bench/call_chain.h"
#include "tracker/live_blocks.h"
#include "tracker/stack_depot.h"
#include "tracker/unwind_cache.h"

namespace {

constexpr size_t kBlockSize = 64;
constexpr uint32_t kPath = 0x2d1b5e93u;  // any fixed path: one stack, repeated

uint64_t malloc_free_pair(void*) {
  void* block = malloc(kBlockSize);
  benchmark::DoNotOptimize(block);
  const auto address = reinterpret_cast<uintptr_t>(block);
  free(block);
  return address;
}

void BM_MallocFreePair(benchmark::State& state) {
  const int depth = static_cast<int>(state.range(0));
  for (auto _ : state) {
    // The pair's own frame counts as one; descend adds one more.
    const uint64_t result =
        depth <= 1 ? malloc_free_pair(nullptr) : bench::descend(kPath, depth - 2, malloc_free_pair, nullptr);
    benchmark::DoNotOptimize(result);
  }
}
BENCHMARK(BM_MallocFreePair)->ArgName("depth")->Arg(1)->Arg(15)->Arg(30);

// A 20-frame stack already in the depot: the hash and compare every
// tracked call paid before the unwind cache.
void BM_TrackerDepotInternHit(benchmark::State& state) {
  nantrack::StackDepot depot;
  depot.init(size_t{64} << 20);
  uintptr_t pcs[20];
  for (uintptr_t i = 0; i < 20; ++i) pcs[i] = 0x55550000 + i * 0x1234;
  depot.intern(pcs, 20);
  for (auto _ : state) benchmark::DoNotOptimize(depot.intern(pcs, 20));
  depot.release();
}
BENCHMARK(BM_TrackerDepotInternHit);

// Insert, find and removal of one block among 100,000 live ones (one
// shard's tables).
void BM_TrackerBlockTableInsertErase(benchmark::State& state) {
  nantrack::LiveBlocks blocks;
  constexpr uintptr_t kLive = 100000;
  for (uintptr_t i = 0; i < kLive; ++i) blocks.insert(nantrack::BlockRecord{.address = 0x10000000 + i * 48});
  uintptr_t next = 0;
  for (auto _ : state) {
    uintptr_t address = 0x20000000 + (next++ % 4096) * 48;
    blocks.insert(nantrack::BlockRecord{.address = address});
    nantrack::LiveBlocks::Found found;
    benchmark::DoNotOptimize(blocks.find(address, found));
    blocks.remove(found);
  }
  blocks.release();
}
BENCHMARK(BM_TrackerBlockTableInsertErase);

// A hit on a cached 20-frame chain (one word read per frame): what a
// tracked call pays for its stack when the cache knows it.
void BM_TrackerUnwindCacheHit(benchmark::State& state) {
  nantrack::UnwindCache::choose_hash_keys();
  nantrack::UnwindCache cache;
  cache.init();
  alignas(16) static uint64_t stack[64];
  auto recording = std::make_unique<nantrack::UnwindRecording>();
  for (uint32_t i = 0; i < 20; ++i) {
    stack[i * 2 + 1] = 0x55550000 + i * 0x1234;
    recording->offsets[i] = (i * 2 + 1) * 8;
    recording->values[i] = stack[i * 2 + 1];
  }
  recording->read_count = 20;
  const nantrack::CallerFrame caller{0x55551000, reinterpret_cast<uintptr_t>(stack), 0};
  cache.insert(caller, *recording, 42);
  for (auto _ : state) benchmark::DoNotOptimize(cache.find(caller));
  cache.release();
}
BENCHMARK(BM_TrackerUnwindCacheHit);

}  // namespace

BENCHMARK_MAIN();
