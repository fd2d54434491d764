// The leak checks the program calls while it runs: nantrack_check_leaks()
// and LeakSanitizer's __lsan_do_leak_check() and
// __lsan_do_recoverable_leak_check(). Each entry point saves its caller's
// callee-saved registers before any compiled code can spill them into
// nantrack's own frames (which the scan skips, as their stale words would
// hide leaks) and reuse them. A block the program keeps only in such a
// register across the call, and uses after it, is then not reported as
// leaked. The registers, and where the caller's stack resumes, go to the
// C++ function that runs the check (preload/lsan_interface.cpp).
        .text

.macro LEAK_CHECK_ENTRY name, implementation
        .globl  \name
        .type   \name, @function
\name:
        .cfi_startproc
        sub     $56, %rsp               // six registers, and rsp 16-byte aligned at the call
        .cfi_adjust_cfa_offset 56
        mov     %rbx, 0(%rsp)           // the order of LeakRoots::CalleeSavedRegisters
        mov     %rbp, 8(%rsp)
        mov     %r12, 16(%rsp)
        mov     %r13, 24(%rsp)
        mov     %r14, 32(%rsp)
        mov     %r15, 40(%rsp)
        mov     %rsp, %rdi              // the registers
        lea     64(%rsp), %rsi          // the caller's stack pointer once this returns
        call    \implementation
        add     $56, %rsp
        .cfi_adjust_cfa_offset -56
        ret
        .cfi_endproc
        .size   \name, .-\name
.endm

        LEAK_CHECK_ENTRY nantrack_check_leaks, nantrack_check_leaks_from
        LEAK_CHECK_ENTRY __lsan_do_recoverable_leak_check, nantrack_lsan_recoverable_leak_check_from
        LEAK_CHECK_ENTRY __lsan_do_leak_check, nantrack_lsan_leak_check_from

        .section .note.GNU-stack,"",@progbits
