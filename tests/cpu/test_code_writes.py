"""Guest code written while it runs, in the kernel's part of the address space (AArch64: the
TTBR1 half; AArch32: above 0xC0000000), where the machine covers Unicorn's per-block TLB scan
with a hook (Machine._cover_kernel_half): a block translated before a store to its code runs as
the new code after it, whether the store goes through the executable address or through a fresh
non-executable alias of the page."""
import struct

from xenhvc import ExitCode, RunConfig
from xenhvc.testing import assemble_guest, run_guest

from tests.cpu.test_exceptions_a32 import MMU_SHORT, SHORT_TAIL

CODE_WRITES = """
    adr x0, l1
    adr x1, l2
    orr x2, x1, #3
    str x2, [x0, #8]              // TTBR0: L1[1] -> l2, identity for guest RAM
    ldr x3, =0x70000401
    mov x4, #0x180
1:  str x3, [x1, x4, lsl #3]
    add x3, x3, #0x200000
    add x4, x4, #1
    cmp x4, #0x1c0
    b.ne 1b
    adr x0, l1k
    adr x1, l2k
    orr x2, x1, #3
    str x2, [x0]                  // TTBR1: L1[0] -> l2k (VA 0xffffff8000000000, executable)
    ldr x3, =0x70000401
    str x3, [x1]
    adr x1, l2d
    orr x2, x1, #3
    str x2, [x0, #8]              // L1[1] -> l2d (VA 0xffffff8040000000, PXN/UXN alias)
    ldr x3, =0x0060000070000401
    str x3, [x1]
    adr x0, l1
    msr ttbr0_el1, x0
    adr x0, l1k
    msr ttbr1_el1, x0
    mov x0, #0xff
    msr mair_el1, x0
    ldr x0, =0x80190019           // T0SZ=T1SZ=25, 4K granules
    msr tcr_el1, x0
    isb
    mrs x0, sctlr_el1
    orr x0, x0, #1
    msr sctlr_el1, x0
    isb
    ldr x20, =0xffffff8000000000
    adr x21, func
    ldr x10, =0x70000000
    sub x21, x21, x10
    add x21, x21, x20             // func in the kernel half (executable)
    ldr x10, =0x40000000
    add x24, x21, x10             // func through the non-executable alias
    blr x21
    mov x22, x0                   // 1
    ldr w1, =0xd2800040           // mov x0, #2
    str w1, [x21]                 // through the executable VA
    ic iallu
    dsb sy
    isb
    blr x21
    mov x23, x0
    ldr w1, =0xd2800060           // mov x0, #3
    str w1, [x24]                 // through the alias
    ic iallu
    dsb sy
    isb
    blr x21
    mov x25, x0
    mov x26, #0
    adr x9, buf
    stp x22, x23, [x9]
    stp x25, x26, [x9, #16]
    mov x0, #0
    mov x1, #32
    adr x2, buf
    xen_hypercall __HYPERVISOR_console_io
    shutdown 0
    .ltorg
    .balign 16
func:
    mov x0, #1
    ret
    .balign 16
buf: .space 32
    .balign 4096
l1: .space 4096
l2: .space 4096
l1k: .space 4096
l2k: .space 4096
l2d: .space 4096
"""


def test_code_written_in_the_kernel_half_runs_as_written():
    result = run_guest(assemble_guest("a64", CODE_WRITES), RunConfig(timeout=10))
    assert result.exit_code == ExitCode.POWEROFF, result.stop
    first, after_store, after_alias_store, _ = struct.unpack("<4q", result.console)
    assert (first, after_store, after_alias_store) == (1, 2, 3)


# MMU_SHORT identity-maps the guest's sections and leaves the table in r0; then VA 0xc0000000
# maps the guest's first section (executable), VA 0xc0100000 the same section with XN
CODE_WRITES_A32 = MMU_SHORT + """
    adr     r1, _start
    lsr     r3, r1, #20
    lsl     r3, r3, #20             @ the guest's section (PA)
    ldr     r4, =0xc0e              @ section, C, B, AP = 0b11
    orr     r4, r3, r4
    ldr     r5, =0x3000
    str     r4, [r0, r5]            @ VA 0xc0000000: executable
    orr     r4, r4, #0x10
    add     r5, r5, #4
    str     r4, [r0, r5]            @ VA 0xc0100000: XN
    mov     r1, #0
    mcr     p15, 0, r1, c8, c7, 0   @ TLBIALL
    dsb
    isb
    adr     r6, func
    sub     r6, r6, r3
    add     r6, r6, #0xc0000000     @ func in the kernel's quarter
    add     r7, r6, #0x100000       @ func through the XN alias
    blx     r6
    mov     r8, r0                  @ 1
    ldr     r1, =0xe3a00002         @ mov r0, #2
    str     r1, [r6]                @ through the executable address
    mcr     p15, 0, r1, c7, c5, 0   @ ICIALLU
    dsb
    isb
    blx     r6
    mov     r9, r0
    ldr     r1, =0xe3a00003         @ mov r0, #3
    str     r1, [r7]                @ through the alias
    mcr     p15, 0, r1, c7, c5, 0
    dsb
    isb
    blx     r6
    mov     r10, r0
    adr     r2, buf
    stmia   r2, {r8, r9, r10}
    mov     r0, #0
    mov     r1, #12
    xen_hypercall __HYPERVISOR_console_io
    shutdown 0
    .ltorg
    .balign 16
func:
    mov     r0, #1
    bx      lr
    .balign 16
buf: .space 16
""" + SHORT_TAIL


def test_code_written_above_3_gib_runs_as_written_a32():
    result = run_guest(assemble_guest("a32", CODE_WRITES_A32), RunConfig(timeout=10))
    assert result.exit_code == ExitCode.POWEROFF, result.stop
    assert struct.unpack("<3i", result.console) == (1, 2, 3)
