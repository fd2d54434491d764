#include "tracker/stack_switch.h"

#include <sys/mman.h>
#include <unistd.h>

#include <atomic>

#include "tracker/internal_memory.h"
#include "tracker/sandbox.h"

// The frame keeps the caller's stack pointer in rbp, and its CFA is said to
// be rbp-based from the switch on: libunwind, asked from the other stack,
// finds the return address and the caller's rbp where the push left them.
asm(R"(
        .text
        .globl  nantrack_call_on_stack
        .hidden nantrack_call_on_stack
        .type   nantrack_call_on_stack, @function
nantrack_call_on_stack:
        .cfi_startproc
        push    %rbp
        .cfi_adjust_cfa_offset 8
        .cfi_rel_offset %rbp, 0
        mov     %rsp, %rbp
        .cfi_def_cfa_register %rbp
        mov     %rdx, %rsp
        mov     %rdi, %rax
        mov     %rsi, %rdi
        call    *%rax
        mov     %rbp, %rsp
        .cfi_def_cfa_register %rsp
        pop     %rbp
        .cfi_adjust_cfa_offset -8
        .cfi_restore %rbp
        ret
        .cfi_endproc
        .size   nantrack_call_on_stack, .-nantrack_call_on_stack
)");

namespace nantrack {

NANTRACK_TLS volatile uintptr_t t_own_stack_resumes_at = 0;

namespace {

// The threads on a fresh stack, by thread id. A slot is claimed with -1,
// filled, then published with the id.
struct FreshStackUser {
  std::atomic<int32_t> tid{0};
  std::atomic<uintptr_t> resumes_at{0};
};
constexpr size_t kFreshStackUsers = 64;
FreshStackUser g_fresh_stack_users[kFreshStackUsers];

FreshStackUser* tell_fresh_stack_user(uintptr_t resumes_at) {
  const auto tid = static_cast<int32_t>(gettid());
  for (FreshStackUser& user : g_fresh_stack_users) {
    int32_t free = 0;
    if (!user.tid.compare_exchange_strong(free, -1, std::memory_order_acquire)) continue;
    user.resumes_at.store(resumes_at, std::memory_order_relaxed);
    user.tid.store(tid, std::memory_order_release);
    return &user;
  }
  return nullptr;
}

// What runs on the fresh stack: the thread is told there, not before the
// switch, where its own stack may have no room left (a snapshot signal on
// a 16 KiB thread's stack came with 0 bytes to spare).
struct FreshStackCall {
  void (*fn)(void*);
  void* arg;
  uintptr_t resumes_at;  // 0: a nested call, already told
};

void run_told(void* opaque) {
  const FreshStackCall& call = *static_cast<const FreshStackCall*>(opaque);
  FreshStackUser* told = call.resumes_at ? tell_fresh_stack_user(call.resumes_at) : nullptr;
  call.fn(call.arg);
  if (told) told->tid.store(0, std::memory_order_release);
}

}  // namespace

uintptr_t own_stack_resumes_at(int32_t tid) {
  for (const FreshStackUser& user : g_fresh_stack_users)
    if (user.tid.load(std::memory_order_acquire) == tid) return user.resumes_at.load(std::memory_order_relaxed);
  return 0;
}

void call_on_fresh_stack(void (*fn)(void*), void* arg, size_t bytes) {
  auto* stack = in_sandbox() ? nullptr : static_cast<char*>(map_memory(bytes));
  if (stack && mprotect(stack, kPageSize, PROT_NONE) != 0) {
    unmap_memory(stack, bytes);
    stack = nullptr;
  }
  if (!stack) return fn(arg);
  // All of this frame, spills of the callers' registers included.
  uintptr_t here;
  asm volatile("mov %%rsp, %0" : "=r"(here));
  const uintptr_t outer = t_own_stack_resumes_at;
  if (!outer) t_own_stack_resumes_at = here;
  FreshStackCall call{fn, arg, outer ? 0 : here};
  nantrack_call_on_stack(run_told, &call, stack + bytes);
  t_own_stack_resumes_at = outer;
  unmap_memory(stack, bytes);
}

}  // namespace nantrack
