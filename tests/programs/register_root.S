// block_in_read(block, fd, keep) never returns: it keeps `block` only in
// r12 (callee-saved) while the thread sits in a read(fd) system call made
// directly, which nobody ever answers; keep = 0 clears r12 instead. Every
// other register that may hold a copy (the caller's callee-saved ones
// included) is cleared, and the frame is 4 KiB of zeros (the red zone
// below it too), so stale words left by earlier calls cannot stand in for
// the register.
        .text
        .globl  block_in_read
        .type   block_in_read, @function
block_in_read:
        mov     %rdi, %r12
        test    %edx, %edx
        jnz     1f
        xor     %r12d, %r12d
1:      mov     %esi, %r8d            // fd; syscall keeps r8
        xor     %ebx, %ebx
        xor     %ebp, %ebp
        xor     %r13d, %r13d
        xor     %r14d, %r14d
        xor     %r15d, %r15d
        sub     $4096, %rsp
        lea     -128(%rsp), %rdi      // zero [rsp - 128, rsp + 4096)
        mov     $(4096 + 128) / 8, %ecx
        xor     %eax, %eax
        rep stosq
        xor     %r9d, %r9d
        xor     %r10d, %r10d
        xor     %r11d, %r11d
2:      mov     $0, %eax              // SYS_read
        mov     %r8d, %edi
        mov     %rsp, %rsi            // one byte into the zeroed frame
        mov     $1, %edx
        syscall
        jmp     2b
        .size   block_in_read, .-block_in_read
        .section .note.GNU-stack,"",@progbits
