/*
 * hello-t32.S - minimal AArch32 Xen guest running in Thumb-2, booted as an Arm
 * zImage. The zImage header and a two-instruction trampoline are ARM code (the
 * boot protocol enters in ARM state); everything after the `bx` is Thumb and
 * makes its hypercalls with the 32-bit Thumb encoding of `hvc #0xea1`.
 * Position independent.
 */
#define __HYPERVISOR_console_io 18
#define __HYPERVISOR_sched_op   29
#define CONSOLEIO_write         0
#define SCHEDOP_shutdown        2
#define XEN_HYPERCALL_TAG       0xea1

    .syntax unified
    .arch   armv7-a
    .arch_extension virt

    .section .text.head, "ax"
    .arm
    .globl _start
_start:
    /* classic zImage header (arch/arm/boot/compressed/head.S) */
    .rept   8
    mov     r0, r0                  /* 0x00..0x1c nops */
    .endr
    b       arm_start               /* 0x20 */
    .word   0x016f2818              /* 0x24 magic */
    .word   0                       /* 0x28 start: 0 = position independent */
    .word   _end - _start           /* 0x2c end (= image size) */
    .word   0x04030201              /* 0x30 endianness flag */

arm_start:
    adr     r0, thumb_start
    orr     r0, r0, #1              /* bit 0 set: bx switches to Thumb */
    bx      r0

    .thumb
    .balign 4
    .thumb_func
thumb_start:
    movs    r0, #CONSOLEIO_write
    movs    r1, #(msg_end - msg)
    adr.w   r2, msg
    mov.w   r12, #__HYPERVISOR_console_io
    hvc.w   #XEN_HYPERCALL_TAG

    movs    r0, #SCHEDOP_shutdown
    adr.w   r1, shutdown_arg
    mov.w   r12, #__HYPERVISOR_sched_op
    hvc     #XEN_HYPERCALL_TAG
1:  b       1b

    .balign 4
shutdown_arg:
    .word   0                       /* struct sched_shutdown { reason = SHUTDOWN_poweroff } */
msg:
    .ascii  "Hello from T32 guest on Xen!\n"
msg_end:
