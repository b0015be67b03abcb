/*
 * start-a64.S - arm64 Image header, self-relocation, stack, BSS, EL1 vectors,
 * setjmp/longjmp and assembly test helpers for the xenhvc guest runtime.
 * Linked at 0 as a PIE: _start applies the R_AARCH64_RELATIVE relocations
 * for wherever Xen (or the model) loaded the image. MMU off: VA == IPA.
 */
    .section .text.head, "ax"
    .globl _start
_start:
    b       real_start              /* 0x00 code0 */
    .long   0                       /* 0x04 code1 */
    .quad   0                       /* 0x08 text_offset */
    .quad   __image_end - _start    /* 0x10 image_size */
    .quad   0xa                     /* 0x18 flags: LE, 4K, anywhere */
    .quad   0, 0, 0
    .ascii  "ARM\x64"               /* 0x38 magic */
    .long   0

real_start:
    mov     x19, x0                 /* DTB */
    adr     x9, _start              /* load base (linked at 0) */
    adr     x10, __rela_start
    adr     x11, __rela_end
1:  cmp     x10, x11
    b.hs    2f
    ldp     x12, x13, [x10], #16    /* r_offset, r_info */
    ldr     x14, [x10], #8          /* r_addend */
    cmp     w13, #1027              /* R_AARCH64_RELATIVE */
    b.ne    1b
    add     x14, x14, x9
    str     x14, [x9, x12]
    b       1b
2:  adr     x1, __bss_start
    adr     x2, __bss_end
3:  cmp     x1, x2
    b.hs    4f
    str     xzr, [x1], #8
    b       3b
4:  adr     x1, __stack_top
    mov     sp, x1
    adr     x1, rt_vectors
    msr     vbar_el1, x1
    isb
    mov     x0, x19
    bl      rt_main
5:  wfi
    b       5b

/* ---- EL1 vectors: save every GPR, call rt_exception64(frame, offset) ---- */
    .macro  ventry off
    .balign 0x80
    sub     sp, sp, #272
    stp     x0, x1, [sp, #0]
    mov     x0, #\off
    b       rt_vector_common
    .endm

    .balign 2048
    .globl  rt_vectors
rt_vectors:
    .irp off, 0x000,0x080,0x100,0x180,0x200,0x280,0x300,0x380,0x400,0x480,0x500,0x580,0x600,0x680,0x700,0x780
    ventry  \off
    .endr

rt_vector_common:
    stp     x2, x3, [sp, #16]
    stp     x4, x5, [sp, #32]
    stp     x6, x7, [sp, #48]
    stp     x8, x9, [sp, #64]
    stp     x10, x11, [sp, #80]
    stp     x12, x13, [sp, #96]
    stp     x14, x15, [sp, #112]
    stp     x16, x17, [sp, #128]
    stp     x18, x19, [sp, #144]
    stp     x20, x21, [sp, #160]
    stp     x22, x23, [sp, #176]
    stp     x24, x25, [sp, #192]
    stp     x26, x27, [sp, #208]
    stp     x28, x29, [sp, #224]
    mrs     x1, elr_el1
    mrs     x2, spsr_el1
    stp     x30, x1, [sp, #240]     /* x30, elr */
    mrs     x3, esr_el1
    stp     x2, x3, [sp, #256]      /* spsr, esr */
    mov     x1, x0                  /* vector offset */
    mov     x0, sp                  /* frame */
    bl      rt_exception64
    ldp     x30, x1, [sp, #240]
    ldr     x2, [sp, #256]
    msr     elr_el1, x1
    msr     spsr_el1, x2
    ldp     x0, x1, [sp, #0]
    ldp     x2, x3, [sp, #16]
    ldp     x4, x5, [sp, #32]
    ldp     x6, x7, [sp, #48]
    ldp     x8, x9, [sp, #64]
    ldp     x10, x11, [sp, #80]
    ldp     x12, x13, [sp, #96]
    ldp     x14, x15, [sp, #112]
    ldp     x16, x17, [sp, #128]
    ldp     x18, x19, [sp, #144]
    ldp     x20, x21, [sp, #160]
    ldp     x22, x23, [sp, #176]
    ldp     x24, x25, [sp, #192]
    ldp     x26, x27, [sp, #208]
    ldp     x28, x29, [sp, #224]
    add     sp, sp, #272
    eret

/* ---- int rt_setjmp(rt_jmp_buf), void rt_longjmp(rt_jmp_buf, int) ---- */
    .text
    .globl  rt_setjmp, rt_longjmp
    .type   rt_setjmp, %function
rt_setjmp:
    stp     x19, x20, [x0, #0]
    stp     x21, x22, [x0, #16]
    stp     x23, x24, [x0, #32]
    stp     x25, x26, [x0, #48]
    stp     x27, x28, [x0, #64]
    stp     x29, x30, [x0, #80]
    mov     x2, sp
    str     x2, [x0, #96]
    mov     x0, #0
    ret
    .type   rt_longjmp, %function
rt_longjmp:
    ldp     x19, x20, [x0, #0]
    ldp     x21, x22, [x0, #16]
    ldp     x23, x24, [x0, #32]
    ldp     x25, x26, [x0, #48]
    ldp     x27, x28, [x0, #64]
    ldp     x29, x30, [x0, #80]
    ldr     x2, [x0, #96]
    mov     sp, x2
    mov     x0, x1
    ret

/* ---- void rt_hvc_regs(unsigned long regs[30]): x0..x29 from regs, hvc #0xea1, back into regs ---- */
    .globl  rt_hvc_regs
    .type   rt_hvc_regs, %function
rt_hvc_regs:
    stp     x29, x30, [sp, #-96]!
    stp     x19, x20, [sp, #16]
    stp     x21, x22, [sp, #32]
    stp     x23, x24, [sp, #48]
    stp     x25, x26, [sp, #64]
    stp     x27, x28, [sp, #80]
    mov     x30, x0
    ldp     x0, x1, [x30, #0]
    ldp     x2, x3, [x30, #16]
    ldp     x4, x5, [x30, #32]
    ldp     x6, x7, [x30, #48]
    ldp     x8, x9, [x30, #64]
    ldp     x10, x11, [x30, #80]
    ldp     x12, x13, [x30, #96]
    ldp     x14, x15, [x30, #112]
    ldp     x16, x17, [x30, #128]
    ldp     x18, x19, [x30, #144]
    ldp     x20, x21, [x30, #160]
    ldp     x22, x23, [x30, #176]
    ldp     x24, x25, [x30, #192]
    ldp     x26, x27, [x30, #208]
    ldp     x28, x29, [x30, #224]
    hvc     #0xea1
    stp     x0, x1, [x30, #0]
    stp     x2, x3, [x30, #16]
    stp     x4, x5, [x30, #32]
    stp     x6, x7, [x30, #48]
    stp     x8, x9, [x30, #64]
    stp     x10, x11, [x30, #80]
    stp     x12, x13, [x30, #96]
    stp     x14, x15, [x30, #112]
    stp     x16, x17, [x30, #128]
    stp     x18, x19, [x30, #144]
    stp     x20, x21, [x30, #160]
    stp     x22, x23, [x30, #176]
    stp     x24, x25, [x30, #192]
    stp     x26, x27, [x30, #208]
    stp     x28, x29, [x30, #224]
    ldp     x19, x20, [sp, #16]
    ldp     x21, x22, [sp, #32]
    ldp     x23, x24, [sp, #48]
    ldp     x25, x26, [sp, #64]
    ldp     x27, x28, [sp, #80]
    ldp     x29, x30, [sp], #96
    ret

/* ---- void rt_bad_hvc_<imm>(void): the hvc is the first instruction (rt_bad_hvc_<imm> is its address) ---- */
    .macro  badhvc imm
    .globl  rt_bad_hvc_\imm
    .type   rt_bad_hvc_\imm, %function
rt_bad_hvc_\imm:
    hvc     #\imm
    ret
    .endm
    badhvc  0x0001
    badhvc  0x0ea0
    badhvc  0x0ea2
    badhvc  0x1234
    badhvc  0xfffe
    badhvc  0xffff

    .section .stack, "aw", %nobits
    .balign 16
    .space  0x10000
    .globl  __stack_top
__stack_top:
    .section .note.GNU-stack, "", %progbits
