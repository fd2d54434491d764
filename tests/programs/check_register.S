// check_holding(block, mask): calls nantrack_check_leaks(), when nantrack
// defines it, holding `block ^ mask` in r12 and nowhere else (the argument
// and scratch registers are cleared first), then returns the block.
        .text
        .globl  check_holding
        .type   check_holding, @function
check_holding:
        .cfi_startproc
        push    %r12
        .cfi_adjust_cfa_offset 8
        push    %r13
        .cfi_adjust_cfa_offset 8
        sub     $8, %rsp                // rsp 16-byte aligned at the call
        .cfi_adjust_cfa_offset 8
        mov     %rdi, %r12
        xor     %rsi, %r12              // the block, or it masked
        mov     %rsi, %r13              // the mask, to undo it after
        xor     %edi, %edi
        xor     %esi, %esi
        xor     %edx, %edx
        xor     %ecx, %ecx
        xor     %r8d, %r8d
        xor     %r9d, %r9d
        xor     %r10d, %r10d
        xor     %r11d, %r11d
        mov     nantrack_check_leaks@GOTPCREL(%rip), %rax
        test    %rax, %rax
        jz      1f
        call    *%rax
1:      mov     %r12, %rax
        xor     %r13, %rax
        add     $8, %rsp
        .cfi_adjust_cfa_offset -8
        pop     %r13
        .cfi_adjust_cfa_offset -8
        pop     %r12
        .cfi_adjust_cfa_offset -8
        ret
        .cfi_endproc
        .size   check_holding, .-check_holding
        .weak   nantrack_check_leaks
        .section .note.GNU-stack,"",@progbits
