/*
 * probe-a64.S - entry, arm64 Image header and EL1 vector table for the probe.
 * Xen enters at offset 0 in EL1h with the MMU off, x0 = DTB address.
 */
    .section .text.head, "ax"
    .globl _start
_start:
    b       real_start              /* 0x00 code0 */
    .long   0                       /* 0x04 code1 */
    .quad   0                       /* 0x08 text_offset */
    .quad   __image_end - _start    /* 0x10 image_size (bytes in the file) */
    .quad   0xa                     /* 0x18 flags: LE, 4K pages, anywhere */
    .quad   0, 0, 0                 /* 0x20..0x37 reserved */
    .ascii  "ARM\x64"               /* 0x38 magic */
    .long   0                       /* 0x3c res5 */

real_start:
    mov     x19, x0                 /* DTB */
    adr     x1, __stack_top
    mov     sp, x1
    adr     x1, __bss_start
    adr     x2, __bss_end
1:  cmp     x1, x2
    b.hs    2f
    str     xzr, [x1], #8
    b       1b
2:  adr     x1, vectors
    msr     vbar_el1, x1
    isb
    mov     x0, x19
    adr     x1, _start
    bl      probe_main
3:  b       3b

/* ---- EL1 vector table: 16 entries of 0x80 bytes, 2 KiB aligned ---- */
    .macro  ventry off
    .balign 0x80
    mov     x0, #\off
    b       vector_common
    .endm

    .balign 2048
    .globl vectors
vectors:
    ventry  0x000   /* current EL, SP_EL0: sync */
    ventry  0x080
    ventry  0x100
    ventry  0x180
    ventry  0x200   /* current EL, SP_ELx: sync  (wrong HVC immediate lands here) */
    ventry  0x280
    ventry  0x300
    ventry  0x380
    ventry  0x400   /* lower EL, AArch64 */
    ventry  0x480
    ventry  0x500
    ventry  0x580
    ventry  0x600   /* lower EL, AArch32 */
    ventry  0x680
    ventry  0x700
    ventry  0x780

vector_common:
    mrs     x1, esr_el1
    mrs     x2, elr_el1
    mrs     x3, spsr_el1
    mrs     x4, far_el1
    mov     x5, sp
    bl      probe_exception         /* never returns */
4:  b       4b
