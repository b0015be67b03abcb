/*
 * probe32.S - Arm zImage header, entry and exception entry code for the
 * AArch32 probes (probe-a32.zImage: C built -marm; probe-t32.zImage: C built
 * -mthumb). This file is the same for both and mixes ARM and Thumb code.
 *
 * Xen 4.17 enters at offset 0 of the zImage in ARM state, SVC mode, MMU off,
 * with r0 = 0, r1 = ~0 (machine type) and r2 = the DTB address.
 *
 * The vector table itself is written at run time by probe32.c
 * (setup_vectors): its undefined-instruction entry is a word that is an ARM
 * "b undef_entry_arm" when executed in ARM state and a Thumb "b.n" to a Thumb
 * stub (-> undef_entry_thumb) when executed in Thumb state, so the handler can
 * tell in which state it was entered (an MRS of the CPSR reads T as zero).
 */
    .syntax unified
    .arch   armv7ve

/* ---- zImage header + entry (ARM) ------------------------------------------ */
    .section .text.head, "ax"
    .arm
    .globl  _start
_start:
    .rept   8
    mov     r0, r0                  /* 0x00..0x1c */
    .endr
    b       real_start              /* 0x20 */
    .word   0x016f2818              /* 0x24 zImage magic */
    .word   0                       /* 0x28 start: 0 = position independent */
    .word   __image_end - _start    /* 0x2c end (= size of the file) */
    .word   0x04030201              /* 0x30 endianness flag */

real_start:
    mov     r8, r2                  /* DTB */
    adr     r9, _start              /* where we were really loaded */
    /* zero .bss (includes the stacks: nothing is pushed before this) */
    ldr     r0, =__bss_start
    ldr     r1, =__bss_end
    mov     r2, #0
1:  cmp     r0, r1
    strlo   r2, [r0], #4
    blo     1b
    /* Undefined-mode stack, then back to SVC */
    cps     #0x1b
    ldr     sp, =__und_stack_top
    cps     #0x13
    ldr     sp, =__svc_stack_top
    mov     r0, r8                  /* dtb */
    mov     r1, r9                  /* load address */
    ldr     r2, =_start             /* link address */
    bl      probe_main              /* linker makes this a blx for Thumb C */
2:  b       2b
    .ltorg

/* ---- wrong-immediate HVCs in the "other" instruction set ------------------- */
/* void bad_hvc_arm(void): ARM-state hvc #0x1234; the undef handler resumes at
 * bad_hvc_arm_after (the instruction after the hvc). */
    .text
    .arm
    .balign 4
    .globl  bad_hvc_arm, bad_hvc_arm_insn, bad_hvc_arm_after
    .type   bad_hvc_arm, %function
bad_hvc_arm:
bad_hvc_arm_insn:
    hvc     #0x1234
bad_hvc_arm_after:
    bx      lr
    .size   bad_hvc_arm, . - bad_hvc_arm

/* void bad_hvc_thumb(void): Thumb-state hvc #0x1234 (32-bit T1 encoding) */
    .thumb
    .balign 4
    .globl  bad_hvc_thumb, bad_hvc_thumb_insn, bad_hvc_thumb_after
    .type   bad_hvc_thumb, %function
    .thumb_func
bad_hvc_thumb:
bad_hvc_thumb_insn:
    hvc     #0x1234
bad_hvc_thumb_after:
    bx      lr
    .size   bad_hvc_thumb, . - bad_hvc_thumb

/* ---- exception entries ------------------------------------------------------ */
/*
 * Placed by probe32.ld at the end of the image, so that the run-time vector
 * table (in .bss, about 32 KiB further up) can reach undef_entry_arm with a
 * branch whose low half-word is a Thumb b.n (see probe32.c).
 */
    .section .vectors_code, "ax"
    .arm
    .balign 4
    .globl  undef_entry_arm
undef_entry_arm:                    /* Undefined mode, ARM state */
    stmfd   sp!, {r0-r12, lr}
    mov     r0, #0                  /* entered in ARM state */
    b       undef_common

    .thumb
    .balign 4
    .globl  undef_entry_thumb
    .type   undef_entry_thumb, %function
    .thumb_func
undef_entry_thumb:                  /* Undefined mode, Thumb state */
    stmdb   sp!, {r0-r12, lr}
    movs    r0, #1                  /* entered in Thumb state */
    ldr     r1, =undef_common
    bx      r1
    .ltorg

    .arm
    .balign 4
undef_common:
    mrs     r1, cpsr
    mrs     r2, spsr                /* SPSR_und */
    mov     r3, lr                  /* LR_und */
    cps     #0x13
    mrs     r4, spsr                /* SPSR_svc */
    cps     #0x1b
    push    {r4, r5}                /* 5th argument (sp stays 8-aligned) */
    bl      probe_undef             /* returns resume address | Thumb bit */
    add     sp, sp, #8
    /*
     * Resume without trusting SPSR_und/LR_und: restore r0-r11, switch to SVC
     * mode with cps (A, I, F masked) and bx to the known label. r12 is
     * clobbered (the hvc sites declare it so).
     */
    mov     r12, r0
    ldmfd   sp!, {r0-r11}
    add     sp, sp, #8              /* saved r12, lr_und */
    cpsid   aif, #0x13
    bx      r12
    .ltorg

/* any other vector: r0 = vector offset; no return (probe_other prints and
 * shuts the domain down) */
    .macro  othervec off
    .globl  exc_entry_\off
exc_entry_\off:
    ldr     sp, =__exc_stack_top
    mov     r0, #\off
    b       other_common
    .endm
    othervec 0x00
    othervec 0x08
    othervec 0x0c
    othervec 0x10
    othervec 0x14
    othervec 0x18
    othervec 0x1c
other_common:
    mrs     r1, cpsr
    mrs     r2, spsr
    mov     r3, lr
    bl      probe_other
3:  b       3b
    .ltorg

/* ---- stacks and the area the vector table is built in ------------------------ */
    .section .stacks, "aw", %nobits
    .balign 16
    .space  0x4000
    .globl  __svc_stack_top
__svc_stack_top:
    .space  0x1000
    .globl  __und_stack_top
__und_stack_top:
    .space  0x800
    .globl  __exc_stack_top
__exc_stack_top:

    .section .vecarea, "aw", %nobits
    .balign 32
    .globl  vecarea, vecarea_end
vecarea:
    .space  0x10000
vecarea_end:

    .section .note.GNU-stack, "", %progbits
