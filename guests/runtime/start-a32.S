/*
 * start-a32.S - Arm zImage header, self-relocation, stacks, BSS, exception
 * vectors, setjmp/longjmp and assembly test helpers for the xenhvc guest
 * runtime (shared by the a32 and t32 images; this file is ARM code except the
 * Thumb helpers). Linked at 0 as a PIE: R_ARM_RELATIVE relocations are applied
 * for wherever the image was loaded. Entry: ARM state, SVC, MMU off, r2 = DTB.
 */
    .syntax unified
    .arch   armv7ve

    .section .text.head, "ax"
    .arm
    .globl  _start
_start:
    .rept   8
    mov     r0, r0
    .endr
    b       real_start              /* 0x20 */
    .word   0x016f2818              /* 0x24 zImage magic */
    .word   0                       /* 0x28 start: position independent */
    .word   __image_end - _start    /* 0x2c end */
    .word   0x04030201              /* 0x30 endianness */

real_start:
    mov     r8, r2                  /* DTB */
    adr     r9, _start              /* load base (linked at 0) */
    ldr     r0, off_rel_start
    ldr     r1, off_rel_end
    add     r0, r0, r9
    add     r1, r1, r9
1:  cmp     r0, r1
    bhs     2f
    ldr     r2, [r0], #4            /* r_offset */
    ldr     r3, [r0], #4            /* r_info */
    and     r3, r3, #0xff
    cmp     r3, #23                 /* R_ARM_RELATIVE */
    bne     1b
    ldr     r3, [r9, r2]
    add     r3, r3, r9
    str     r3, [r9, r2]
    b       1b
2:  ldr     r0, off_bss_start
    ldr     r1, off_bss_end
    add     r0, r0, r9
    add     r1, r1, r9
    mov     r2, #0
3:  cmp     r0, r1
    strlo   r2, [r0], #4
    blo     3b
    /* stacks: Undefined, Abort, IRQ, FIQ share the exception stack; SVC its own */
    ldr     r0, off_exc_stack_top
    add     r0, r0, r9
    cps     #0x1b
    mov     sp, r0
    cps     #0x17
    mov     sp, r0
    cps     #0x12
    mov     sp, r0
    cps     #0x11
    mov     sp, r0
    cps     #0x13
    ldr     r0, off_stack_top
    add     sp, r0, r9
    /* VBAR (SCTLR.V is 0 at entry) */
    ldr     r0, off_vectors
    add     r0, r0, r9
    mcr     p15, 0, r0, c12, c0, 0
    isb
    mov     r0, r8
    bl      rt_main
4:  wfi
    b       4b
    /* link-time offsets from _start (no literal pool: those would be relocated) */
off_rel_start:      .word __rel_start - _start
off_rel_end:        .word __rel_end - _start
off_bss_start:      .word __bss_start - _start
off_bss_end:        .word __bss_end - _start
off_exc_stack_top:  .word __exc_stack_top - _start
off_stack_top:      .word __stack_top - _start
off_vectors:        .word rt_vectors - _start

/* ---- vectors (ARM state: SCTLR.TE is 0) ---- */
    .balign 32
    .globl  rt_vectors
rt_vectors:
    b       vec_0x00
    b       vec_0x04
    b       vec_0x08
    b       vec_0x0c
    b       vec_0x10
    b       vec_0x14
    b       vec_irq
    b       vec_0x1c

    .macro  vec off
vec_\off:
    stmfd   sp!, {r0-r12, lr}       /* frame: r0..r12, lr of the exception mode */
    mov     r0, sp
    mov     r1, #\off
    b       vec_common
    .endm
    vec     0x00
    vec     0x04
    vec     0x08
    vec     0x0c
    vec     0x10
    vec     0x14
    vec     0x18
    vec     0x1c

/* IRQ: return to the interrupted code with its CPSR (LR_irq - 4, SPSR_irq) */
vec_irq:
    sub     lr, lr, #4
    srsdb   sp!, #0x12              /* LR_irq, SPSR_irq onto the IRQ stack */
    push    {r0-r3, r12, lr}        /* the caller-saved registers (lr keeps 8-byte alignment) */
    bl      rt_irq32
    pop     {r0-r3, r12, lr}
    rfeia   sp!

vec_common:
    bl      rt_exception32          /* returns the resume address (| 1 for Thumb) */
    /*
     * Resume in SVC mode at the address C chose, without trusting SPSR/LR of
     * the exception mode (QEMU's AArch32 SPSR banking under Xen differs);
     * r0-r11 restored, r12 and the flags are clobbered (the callers say so).
     */
    mov     r12, r0
    ldmfd   sp!, {r0-r11}
    add     sp, sp, #8
    cpsid   aif, #0x13
    bx      r12

/* ---- int rt_setjmp(rt_jmp_buf), void rt_longjmp(rt_jmp_buf, int) ---- */
    .text
    .arm
    .globl  rt_setjmp, rt_longjmp
    .type   rt_setjmp, %function
rt_setjmp:
    stmia   r0, {r4-r11}
    str     sp, [r0, #32]
    str     lr, [r0, #36]
    mov     r0, #0
    bx      lr
    .type   rt_longjmp, %function
rt_longjmp:
    ldmia   r0, {r4-r11}
    ldr     sp, [r0, #32]
    ldr     lr, [r0, #36]
    mov     r0, r1
    bx      lr

/* ---- void rt_hvc_regs_arm(unsigned long regs[13]) / rt_hvc_regs_thumb: r0..r12 from regs, hvc #0xea1, back ---- */
    .globl  rt_hvc_regs_arm
    .type   rt_hvc_regs_arm, %function
rt_hvc_regs_arm:
    push    {r4-r11, lr}
    mov     lr, r0
    ldm     lr, {r0-r12}
    hvc     #0xea1
    stm     lr, {r0-r12}
    pop     {r4-r11, lr}
    bx      lr

    .thumb
    .balign 4
    .globl  rt_hvc_regs_thumb
    .type   rt_hvc_regs_thumb, %function
    .thumb_func
rt_hvc_regs_thumb:
    push    {r4-r11, lr}
    mov     lr, r0
    ldm.w   lr, {r0-r12}
    hvc     #0xea1
    stm.w   lr, {r0-r12}
    pop     {r4-r11, lr}
    bx      lr

/* ---- void rt_bad_hvc_{arm,thumb}_<imm>(void): the hvc is the first instruction ---- */
    .macro  badhvc imm
    .arm
    .balign 4
    .globl  rt_bad_hvc_arm_\imm
    .type   rt_bad_hvc_arm_\imm, %function
rt_bad_hvc_arm_\imm:
    hvc     #\imm
    bx      lr
    .thumb
    .balign 4
    .globl  rt_bad_hvc_thumb_\imm
    .type   rt_bad_hvc_thumb_\imm, %function
    .thumb_func
rt_bad_hvc_thumb_\imm:
    hvc     #\imm
    bx      lr
    .endm
    badhvc  0x0001
    badhvc  0x0ea0
    badhvc  0x0ea2
    badhvc  0x1234
    badhvc  0xfffe
    badhvc  0xffff

    .section .stack, "aw", %nobits
    .balign 16
    .space  0x8000
    .globl  __stack_top
__stack_top:
    .space  0x2000
    .globl  __exc_stack_top
__exc_stack_top:
    .section .note.GNU-stack, "", %progbits
