#include "tracker/stack_switch.h"

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
