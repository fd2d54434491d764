#include "tracker/stack_switch.h"

#include <sys/mman.h>

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
  nantrack_call_on_stack(fn, arg, stack + bytes);
  t_own_stack_resumes_at = outer;
  unmap_memory(stack, bytes);
}

}  // namespace nantrack
