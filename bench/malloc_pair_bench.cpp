// The cost of one malloc/free pair, called from main-like depth (1 frame)
// and from the middle of a realistic stack (15 frames): the unwinding a
// tracker does per allocation grows with depth. bench/run-bench runs this
// natively and under libnantrack.so and prints the ratio.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdlib>

#include "bench/call_chain.h"

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
BENCHMARK(BM_MallocFreePair)->ArgName("depth")->Arg(1)->Arg(15);

}  // namespace

BENCHMARK_MAIN();
