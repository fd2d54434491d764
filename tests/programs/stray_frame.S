// allocate_under_stray_frame(size): malloc(size) from code with no unwind
// tables (no CFI directives: no FDE), as a JIT compiler's code is, with
// rbp pointing at a frame record whose return address is 0x2. An unwinder
// that finds no table falls back to rbp's frame chain, as libunwind does,
// and gets 0x2 for the next frame's pc.
        .text
        .globl  allocate_under_stray_frame
        .type   allocate_under_stray_frame, @function
allocate_under_stray_frame:
        push    %rbp
        sub     $16, %rsp               // rsp 16-byte aligned at the call
        movq    $0, (%rsp)              // the record's saved rbp: the chain's end
        movq    $2, 8(%rsp)             // its return address
        mov     %rsp, %rbp
        call    malloc@PLT
        add     $16, %rsp
        pop     %rbp
        ret
        .size   allocate_under_stray_frame, .-allocate_under_stray_frame
        .section .note.GNU-stack,"",@progbits
