#include "tracker/stack_switch.h"

#include <sys/mman.h>
#include <sys/ucontext.h>

#include <atomic>
#include <csignal>

#include "tracker/internal_memory.h"
#include "tracker/sandbox.h"
#include "tracker/signal_stack.h"

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
namespace {

// The stacks of ours in use: [low, high), and where the thread on it left
// its own. A slot is claimed by swapping `low` from 0 to 1, filled, then
// published with the real `low`.
struct StackInUse {
  std::atomic<uintptr_t> low{0};
  std::atomic<uintptr_t> high{0};
  std::atomic<uintptr_t> resumes_at{0};
};
StackInUse g_stacks_in_use[kStacksOfOursInUse];

constexpr uintptr_t kClaimed = 1;

StackInUse* note_stack_in_use(uintptr_t low, uintptr_t high, uintptr_t resumes_at) {
  for (StackInUse& slot : g_stacks_in_use) {
    uintptr_t free = 0;
    if (!slot.low.compare_exchange_strong(free, kClaimed, std::memory_order_acquire)) continue;
    slot.high.store(high, std::memory_order_relaxed);
    slot.resumes_at.store(resumes_at, std::memory_order_relaxed);
    slot.low.store(low, std::memory_order_release);
    return &slot;
  }
  return nullptr;
}

}  // namespace

char* map_stack(size_t bytes) {
  auto* stack = static_cast<char*>(map_memory(bytes));
  if (stack && mprotect(stack, kPageSize, PROT_NONE) != 0) {
    unmap_memory(stack, bytes);
    return nullptr;
  }
  return stack;
}

uintptr_t own_stack_pointer(uintptr_t stack_pointer) {
  // A call may switch from a stack of ours to another (a crash while
  // unwinding on one, then the trace on a fresh one): follow it back.
  for (size_t hops = 0; hops < kStacksOfOursInUse; ++hops) {
    uintptr_t resumes_at = 0;
    for (const StackInUse& slot : g_stacks_in_use) {
      const uintptr_t low = slot.low.load(std::memory_order_acquire);
      // [low, high]: at the switch itself the stack pointer is the top.
      if (low <= kClaimed || stack_pointer < low || stack_pointer > slot.high.load(std::memory_order_relaxed))
        continue;
      const uintptr_t resumes = slot.resumes_at.load(std::memory_order_relaxed);
      // Still the same stack (not freed and claimed again meanwhile).
      if (slot.low.load(std::memory_order_acquire) == low) resumes_at = resumes;
    }
    if (!resumes_at) break;
    stack_pointer = resumes_at;
  }
  return stack_pointer;
}

HandlerOnAltStack::HandlerOnAltStack(const ucontext_t& interrupted, int signal) {
  stack_t alt{};
  if (kernel_sigaltstack(nullptr, &alt) == 0 && (alt.ss_flags & SS_ONSTACK)) {
    const auto low = reinterpret_cast<uintptr_t>(alt.ss_sp), high = low + alt.ss_size;
    const auto resumes_at = static_cast<uintptr_t>(interrupted.uc_mcontext.gregs[REG_RSP]);
    // Interrupted on the alternate stack itself (a handler nested in one
    // of the program's), there is no way out of it to note.
    if (resumes_at < low || resumes_at > high) noted_ = note_stack_in_use(low, high, resumes_at);
  }
  // The mask the handler would have had: the interrupted code's, and its
  // own signal.
  sigset_t mask = interrupted.uc_sigmask;
  sigaddset(&mask, signal);
  kernel_sigprocmask(SIG_SETMASK, &mask, nullptr);
}

HandlerOnAltStack::~HandlerOnAltStack() {
  block_all_signals();
  if (noted_) static_cast<StackInUse*>(noted_)->low.store(0, std::memory_order_release);
}

namespace {

// A signal handler that runs on the thread's alternate signal stack and
// moves to a stack of ours leaves its frames on the alternate stack. A
// signal that came meanwhile would find the thread off that stack, and the
// kernel would build its frame at the alternate stack's top, over them: two
// threads taking snapshots at once stop each other, and a thread whose
// snapshot was so overwritten crashed when it returned (1 run in 20 of
// snapshot_signal's "threads" on a busy machine). So the alternate stack
// is disabled while fn runs, and a signal then nests on the stack of ours.
// It is disabled and installed again from the stack of ours (the kernel
// refuses either while the thread runs on it), with every signal blocked
// across the switches.
struct OffAltStack {
  void (*fn)(void*);
  void* arg;
  stack_t alt_stack;
  sigset_t mask;  // the handler's
};

void run_off_alt_stack(void* argument) {
  auto& call = *static_cast<OffAltStack*>(argument);
  stack_t disable{};
  disable.ss_flags = SS_DISABLE;
  kernel_sigaltstack(&disable, nullptr);
  kernel_sigprocmask(SIG_SETMASK, &call.mask, nullptr);
  call.fn(call.arg);
  block_all_signals();
  kernel_sigaltstack(&call.alt_stack, nullptr);
}

// Calls fn(arg) on `stack_top` as nantrack_call_on_stack() does, the
// alternate signal stack disabled meanwhile when the thread runs on it.
void call_on_stack(void (*fn)(void*), void* arg, char* stack_top) {
  OffAltStack call{fn, arg, {}, {}};
  if (kernel_sigaltstack(nullptr, &call.alt_stack) != 0 || !(call.alt_stack.ss_flags & SS_ONSTACK))
    return nantrack_call_on_stack(fn, arg, stack_top);
  call.alt_stack.ss_flags &= ~SS_ONSTACK;
  block_all_signals(&call.mask);
  nantrack_call_on_stack(run_off_alt_stack, &call, stack_top);
  kernel_sigprocmask(SIG_SETMASK, &call.mask, nullptr);
}

}  // namespace

void call_on_stack_of_ours(void (*fn)(void*), void* arg, char* stack, char* stack_top) {
  // All of this frame, spills of the callers' registers included.
  uintptr_t here;
  asm volatile("mov %%rsp, %0" : "=r"(here));
  StackInUse* noted =
      note_stack_in_use(reinterpret_cast<uintptr_t>(stack), reinterpret_cast<uintptr_t>(stack_top), here);
  call_on_stack(fn, arg, stack_top);
  if (noted) noted->low.store(0, std::memory_order_release);
}

void call_on_fresh_stack(void (*fn)(void*), void* arg, size_t bytes) {
  char* stack = in_sandbox() ? nullptr : map_stack(bytes);
  if (!stack) return fn(arg);
  call_on_stack_of_ours(fn, arg, stack, stack + bytes);
  unmap_memory(stack, bytes);
}

}  // namespace nantrack
