// The 16 global operator new/delete functions (plain, array, nothrow,
// sized, align_val_t and their combinations). Built with frame pointers:
// each passes its caller's frame (NANTRACK_CALLER_FRAME()) to the tracker.
//
// A new is served by the real malloc or memalign, as libstdc++ does. Only
// when that fails do we call libstdc++'s own operator new: it runs the
// new-handler loop and throws std::bad_alloc, so failure semantics stay
// exactly libstdc++'s without linking it into every traced process. Its
// block reached us through malloc, so we correct the recorded kind.
#include <dlfcn.h>
#include <new>

#include "preload/shim.h"

using namespace nantrack;

namespace {

// Our own tag object: std::nothrow lives in libstdc++, which C programs lack.
const std::nothrow_t kNothrow{};

template <typename Pointer>
Pointer next_definition(const char* mangled_name) {
  shim::InsideNantrack inside;
  return reinterpret_cast<Pointer>(dlsym(RTLD_NEXT, mangled_name));
}

void* allocate_new(size_t size, AllocKind kind, size_t alignment, const CallerFrame& caller) {
  if (size == 0) size = 1;  // as libstdc++: every new returns a distinct block
  if (alignment)
    return shim::allocate_tracked(size, kind, alignment, caller, [&](size_t n) { return g_real.memalign(alignment, n); });
  return shim::allocate_tracked(size, kind, 16, caller, [](size_t n) { return g_real.malloc(n); });
}

NANTRACK_NOINLINE void* retag_fallback(void* block, AllocKind kind) {
  if (block && shim::enter()) {
    tracker().retag(block, kind);
    shim::leave();
  }
  return block;
}

// libstdc++'s definition of one operator, looked up on first failure. Each
// operator has its own slot: the aligned new and new[] share a signature.
struct Fallback {
  const char* mangled_name;
  void* function = nullptr;
};

constinit Fallback g_new{"_Znwm"}, g_new_array{"_Znam"}, g_new_aligned{"_ZnwmSt11align_val_t"},
    g_new_array_aligned{"_ZnamSt11align_val_t"}, g_new_nothrow{"_ZnwmRKSt9nothrow_t"},
    g_new_array_nothrow{"_ZnamRKSt9nothrow_t"}, g_new_aligned_nothrow{"_ZnwmSt11align_val_tRKSt9nothrow_t"},
    g_new_array_aligned_nothrow{"_ZnamSt11align_val_tRKSt9nothrow_t"};

// The slow path: call libstdc++'s operator, which loops over the
// new-handler and throws std::bad_alloc (or returns nullptr for nothrow).
template <typename... Args>
NANTRACK_NOINLINE void* fall_back(Fallback& fallback, AllocKind kind, Args... args) {
  if (!fallback.function) fallback.function = next_definition<void*>(fallback.mangled_name);
  if (!fallback.function) return nullptr;  // no libstdc++ in this process: behave as nothrow
  auto next = reinterpret_cast<void* (*)(Args...)>(fallback.function);
  return retag_fallback(next(args...), kind);
}

void* new_throwing(size_t size, AllocKind kind, size_t alignment, Fallback& fallback, const CallerFrame& caller) {
  if (void* block = allocate_new(size, kind, alignment, caller)) [[likely]]
    return block;
  if (alignment) return fall_back(fallback, kind, size, std::align_val_t(alignment));
  return fall_back(fallback, kind, size);
}

void* new_nothrow(size_t size, AllocKind kind, size_t alignment, Fallback& fallback, const CallerFrame& caller) {
  if (void* block = allocate_new(size, kind, alignment, caller)) [[likely]]
    return block;
  if (alignment) return fall_back(fallback, kind, size, std::align_val_t(alignment), &kNothrow);
  return fall_back(fallback, kind, size, &kNothrow);
}

}  // namespace

// clang-format off
__attribute__((visibility("default"))) void* operator new(size_t n) { return new_throwing(n, AllocKind::New, 0, g_new, NANTRACK_CALLER_FRAME()); }
__attribute__((visibility("default"))) void* operator new[](size_t n) { return new_throwing(n, AllocKind::NewArray, 0, g_new_array, NANTRACK_CALLER_FRAME()); }
__attribute__((visibility("default"))) void* operator new(size_t n, std::align_val_t a) { return new_throwing(n, AllocKind::NewAligned, size_t(a), g_new_aligned, NANTRACK_CALLER_FRAME()); }
__attribute__((visibility("default"))) void* operator new[](size_t n, std::align_val_t a) { return new_throwing(n, AllocKind::NewArrayAligned, size_t(a), g_new_array_aligned, NANTRACK_CALLER_FRAME()); }
__attribute__((visibility("default"))) void* operator new(size_t n, const std::nothrow_t&) noexcept { return new_nothrow(n, AllocKind::New, 0, g_new_nothrow, NANTRACK_CALLER_FRAME()); }
__attribute__((visibility("default"))) void* operator new[](size_t n, const std::nothrow_t&) noexcept { return new_nothrow(n, AllocKind::NewArray, 0, g_new_array_nothrow, NANTRACK_CALLER_FRAME()); }
__attribute__((visibility("default"))) void* operator new(size_t n, std::align_val_t a, const std::nothrow_t&) noexcept { return new_nothrow(n, AllocKind::NewAligned, size_t(a), g_new_aligned_nothrow, NANTRACK_CALLER_FRAME()); }
__attribute__((visibility("default"))) void* operator new[](size_t n, std::align_val_t a, const std::nothrow_t&) noexcept { return new_nothrow(n, AllocKind::NewArrayAligned, size_t(a), g_new_array_aligned_nothrow, NANTRACK_CALLER_FRAME()); }

__attribute__((visibility("default"))) void operator delete(void* p) noexcept { shim::release_tracked(p, DeallocKind::Delete, NANTRACK_CALLER_FRAME()); }
__attribute__((visibility("default"))) void operator delete[](void* p) noexcept { shim::release_tracked(p, DeallocKind::DeleteArray, NANTRACK_CALLER_FRAME()); }
__attribute__((visibility("default"))) void operator delete(void* p, size_t) noexcept { shim::release_tracked(p, DeallocKind::Delete, NANTRACK_CALLER_FRAME()); }
__attribute__((visibility("default"))) void operator delete[](void* p, size_t) noexcept { shim::release_tracked(p, DeallocKind::DeleteArray, NANTRACK_CALLER_FRAME()); }
__attribute__((visibility("default"))) void operator delete(void* p, std::align_val_t) noexcept { shim::release_tracked(p, DeallocKind::DeleteAligned, NANTRACK_CALLER_FRAME()); }
__attribute__((visibility("default"))) void operator delete[](void* p, std::align_val_t) noexcept { shim::release_tracked(p, DeallocKind::DeleteArrayAligned, NANTRACK_CALLER_FRAME()); }
__attribute__((visibility("default"))) void operator delete(void* p, size_t, std::align_val_t) noexcept { shim::release_tracked(p, DeallocKind::DeleteAligned, NANTRACK_CALLER_FRAME()); }
__attribute__((visibility("default"))) void operator delete[](void* p, size_t, std::align_val_t) noexcept { shim::release_tracked(p, DeallocKind::DeleteArrayAligned, NANTRACK_CALLER_FRAME()); }
__attribute__((visibility("default"))) void operator delete(void* p, const std::nothrow_t&) noexcept { shim::release_tracked(p, DeallocKind::Delete, NANTRACK_CALLER_FRAME()); }
__attribute__((visibility("default"))) void operator delete[](void* p, const std::nothrow_t&) noexcept { shim::release_tracked(p, DeallocKind::DeleteArray, NANTRACK_CALLER_FRAME()); }
__attribute__((visibility("default"))) void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { shim::release_tracked(p, DeallocKind::DeleteAligned, NANTRACK_CALLER_FRAME()); }
__attribute__((visibility("default"))) void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { shim::release_tracked(p, DeallocKind::DeleteArrayAligned, NANTRACK_CALLER_FRAME()); }
// clang-format on
