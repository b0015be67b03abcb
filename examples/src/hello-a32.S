/*
 * hello-a32.S - minimal AArch32 (ARM state) Xen guest, booted as an Arm zImage.
 * Prints a greeting with console_io(CONSOLEIO_write) and powers off with
 * sched_op(SCHEDOP_shutdown, {SHUTDOWN_poweroff}). Position independent.
 */
#define __HYPERVISOR_console_io 18
#define __HYPERVISOR_sched_op   29
#define CONSOLEIO_write         0
#define SCHEDOP_shutdown        2
#define XEN_HYPERCALL_TAG       0xea1

    .syntax unified
    .arch   armv7-a
    .arch_extension virt
    .arm

    .section .text.head, "ax"
    .globl _start
_start:
    /* classic zImage header (arch/arm/boot/compressed/head.S) */
    .rept   8
    mov     r0, r0                  /* 0x00..0x1c nops */
    .endr
    b       start                   /* 0x20 */
    .word   0x016f2818              /* 0x24 magic */
    .word   0                       /* 0x28 start: 0 = position independent */
    .word   _end - _start           /* 0x2c end (= image size) */
    .word   0x04030201              /* 0x30 endianness flag */

start:
    mov     r0, #CONSOLEIO_write
    mov     r1, #(msg_end - msg)
    adr     r2, msg
    mov     r12, #__HYPERVISOR_console_io
    hvc     #XEN_HYPERCALL_TAG

    mov     r0, #SCHEDOP_shutdown
    adr     r1, shutdown_arg
    mov     r12, #__HYPERVISOR_sched_op
    hvc     #XEN_HYPERCALL_TAG
1:  b       1b

    .balign 4
shutdown_arg:
    .word   0                       /* struct sched_shutdown { reason = SHUTDOWN_poweroff } */
msg:
    .ascii  "Hello from A32 guest on Xen!\n"
msg_end:
