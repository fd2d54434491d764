// malloc_without_unwind_info(size): calls malloc from a frame that has no
// unwind information (no .cfi directives: no FDE covers it), with an rbp
// frame, as JIT-compiled or hand-written code may. libunwind then finds
// the caller's frame by following rbp and tests every address it reads.
        .text
        .globl  malloc_without_unwind_info
        .type   malloc_without_unwind_info, @function
malloc_without_unwind_info:
        push    %rbp
        mov     %rsp, %rbp
        call    malloc@PLT
        pop     %rbp
        ret
        .size   malloc_without_unwind_info, .-malloc_without_unwind_info
        .section .note.GNU-stack,"",@progbits
