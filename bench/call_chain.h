// Deep, varied call stacks for the benchmark programs.
//
// descend(path, depth, leaf, state) calls `leaf(state)` under `depth` extra
// frames; which function sits at each level is picked by the bits of `path`,
// so different paths give a heap tracker different stacks to unwind and
// intern, as the allocation sites of a real program would.
//
// -O2 must keep every frame, so each level is a noinline function called
// through a table (nothing to inline or clone across), and does work after
// the call returns (no tail call that would turn the frame into a jump).
#pragma once

#include <cstdint>

namespace bench {

using Leaf = uint64_t (*)(void* state);

uint64_t descend(uint32_t path, int depth, Leaf leaf, void* state);

// Where results go so the compiler cannot prove a pointer or value unused and
// delete the malloc that produced it.
extern volatile uintptr_t sink;

}  // namespace bench
