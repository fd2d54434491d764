#include "bench/call_chain.h"

namespace bench {

volatile uintptr_t sink;

namespace {

using Level = uint64_t (*)(uint32_t path, int depth, Leaf leaf, void* state);
extern const Level kLevels[4];

// Two bits of the path choose each level; rotating (rather than shifting)
// keeps choices coming for stacks deeper than 16 levels.
inline uint64_t next_level(uint32_t path, int depth, Leaf leaf, void* state) {
  if (depth == 0) return leaf(state);
  return kLevels[path & 3]((path >> 2) | (path << 30), depth - 1, leaf, state);
}

// Four distinct bodies (distinct constants) so identical-code folding cannot
// merge them into one symbol.
[[gnu::noinline]] uint64_t parse_node(uint32_t path, int depth, Leaf leaf, void* state) {
  return next_level(path, depth, leaf, state) * 3 + 1;
}
[[gnu::noinline]] uint64_t visit_children(uint32_t path, int depth, Leaf leaf, void* state) {
  return next_level(path, depth, leaf, state) * 5 + 2;
}
[[gnu::noinline]] uint64_t dispatch_event(uint32_t path, int depth, Leaf leaf, void* state) {
  return next_level(path, depth, leaf, state) * 7 + 3;
}
[[gnu::noinline]] uint64_t build_request(uint32_t path, int depth, Leaf leaf, void* state) {
  return next_level(path, depth, leaf, state) * 11 + 4;
}

const Level kLevels[4] = {parse_node, visit_children, dispatch_event, build_request};

}  // namespace

[[gnu::noinline]] uint64_t descend(uint32_t path, int depth, Leaf leaf, void* state) {
  return next_level(path, depth, leaf, state) ^ static_cast<uint64_t>(depth);
}

}  // namespace bench
