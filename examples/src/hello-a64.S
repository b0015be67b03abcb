/*
 * hello-a64.S - minimal AArch64 Xen guest, booted as an arm64 Linux "Image".
 * Prints a greeting with console_io(CONSOLEIO_write) and powers off with
 * sched_op(SCHEDOP_shutdown, {SHUTDOWN_poweroff}). Position independent.
 */
#define __HYPERVISOR_console_io 18
#define __HYPERVISOR_sched_op   29
#define CONSOLEIO_write         0
#define SCHEDOP_shutdown        2
#define XEN_HYPERCALL_TAG       0xea1

    .section .text.head, "ax"
    .globl _start
_start:
    /* arm64 Image header (Documentation/arm64/booting.rst) */
    b       real_start              /* 0x00 code0 */
    .long   0                       /* 0x04 code1 */
    .quad   0                       /* 0x08 text_offset */
    .quad   _end - _start           /* 0x10 image_size */
    .quad   0xa                     /* 0x18 flags: LE, 4K pages, anywhere */
    .quad   0                       /* 0x20 res2 */
    .quad   0                       /* 0x28 res3 */
    .quad   0                       /* 0x30 res4 */
    .ascii  "ARM\x64"               /* 0x38 magic */
    .long   0                       /* 0x3c res5 */

real_start:
    mov     x0, #CONSOLEIO_write
    mov     x1, #(msg_end - msg)
    adr     x2, msg
    mov     x16, #__HYPERVISOR_console_io
    hvc     #XEN_HYPERCALL_TAG

    mov     x0, #SCHEDOP_shutdown
    adr     x1, shutdown_arg
    mov     x16, #__HYPERVISOR_sched_op
    hvc     #XEN_HYPERCALL_TAG
1:  b       1b

    .balign 4
shutdown_arg:
    .long   0                       /* struct sched_shutdown { reason = SHUTDOWN_poweroff } */
msg:
    .ascii  "Hello from A64 guest on Xen!\n"
msg_end:
