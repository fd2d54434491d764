#include "tracker/unwinder.h"

#include <cstring>

#include <dlfcn.h>


namespace nantrack {

bool Unwinder::load() {
  void* library = dlopen("libunwind.so.8", RTLD_NOW | RTLD_LOCAL);
  if (!library) return false;
  using SetCachingPolicyFn = int (*)(void* address_space, int policy);
  auto set_caching_policy = reinterpret_cast<SetCachingPolicyFn>(dlsym(library, "_ULx86_64_set_caching_policy"));
  auto* local_address_space = static_cast<void**>(dlsym(library, "_ULx86_64_local_addr_space"));
  auto backtrace = reinterpret_cast<BacktraceFn>(dlsym(library, "unw_backtrace"));
  if (!backtrace) return false;
  // Before the first call into libunwind, which starts it: the calls it
  // makes then are recognised as ours (preload/unwinder_pipe_hooks.cpp).
  find_code_range(reinterpret_cast<void*>(backtrace), library_code_);
  // UNW_CACHE_PER_THREAD (2): each thread reuses its own cache of unwind
  // info without locks; the fast unw_backtrace path depends on it.
  constexpr int kCachePerThread = 2;
  if (set_caching_policy && local_address_space) set_caching_policy(*local_address_space, kCachePerThread);
  backtrace_ = backtrace;
  return true;
}

void Unwinder::skip_frames_in(uintptr_t begin, uintptr_t end) {
  if (skip_count_ < kMaxSkipRanges) skip_[skip_count_++] = {begin, end};
}

bool Unwinder::skips(uintptr_t pc) const {
  if (library_code_.contains(pc)) return true;
  for (int i = 0; i < skip_count_; ++i)
    if (skip_[i].contains(pc)) return true;
  return false;
}

uint32_t Unwinder::capture(uintptr_t* pcs, uint32_t max_depth) const {
  if (!backtrace_) return 0;
  if (max_depth > kMaxDepth) max_depth = kMaxDepth;
  void* raw[1];  // libunwind's element type, for the size check
  static_assert(sizeof raw[0] == sizeof pcs[0]);
  const int total = backtrace_(reinterpret_cast<void**>(pcs), static_cast<int>(max_depth + kMaxSkippedFrames));
  uint32_t depth = 0;
  // In place: a pc is read before its slot or any before it is written.
  for (int i = 0; i < total && depth < max_depth; ++i) {
    uintptr_t pc;
    std::memcpy(&pc, &pcs[i], sizeof pc);
    if (skips(pc)) continue;
    // Return addresses point after the call; minus one lands in the call
    // instruction, so symbolization names the calling line.
    pcs[depth++] = pc - 1;
  }
  return depth;
}

}  // namespace nantrack
