"""The trap path on real guest machine code (A64, A32, T32) on the emulator: registers, results,
the injected undefined-instruction exception, SMCCC, limits and stop reasons."""
import struct

import pytest

from xenhvc import ExitCode, RunConfig, StopKind
from xenhvc.testing import assemble_guest, run_guest

M32 = 0xFFFFFFFF

# -- snippets -----------------------------------------------------------------------------------
# A64: call xen_version(0) with x1..x4 and x16 preset, then write x0..x4, x16 (48 bytes) to the console.
A64_REGS_AFTER = """
    ldr x1, =0x1111111111111111
    ldr x2, =0x2222222222222222
    ldr x3, =0x3333333333333333
    ldr x4, =0x4444444444444444
    mov x0, #{cmd}
    {setup}
    mov x16, #{nr}
    hvc #0xea1
    adr x9, scratch
    stp x0, x1, [x9]
    stp x2, x3, [x9, #16]
    stp x4, x16, [x9, #32]
    mov x0, #0
    mov x1, #48
    mov x2, x9
    xen_hypercall __HYPERVISOR_console_io
    shutdown 0
    .ltorg
    .balign 8
scratch: .space 64
"""

A32_REGS_AFTER = """
    ldr r1, =0x11111111
    ldr r2, =0x22222222
    ldr r3, =0x33333333
    ldr r4, =0x44444444
    mov r0, #{cmd}
    {setup}
    mov r12, #{nr}
    hvc #0xea1
    adr r9, scratch
    stm r9, {{r0-r4, r12}}
    mov r0, #0
    mov r1, #24
    mov r2, r9
    xen_hypercall __HYPERVISOR_console_io
    shutdown 0
    .ltorg
    .balign 8
scratch: .space 64
"""


def regs_after(isa: str, nr: int, cmd: int, debug: bool, setup: str = ""):
    template = A64_REGS_AFTER if isa == "a64" else A32_REGS_AFTER
    if isa == "t32":
        template = template.replace("stm r9, {{r0-r4, r12}}", "stm r9!, {{r0-r4}}\n    str r12, [r9]\n    sub r9, r9, #20")
    result = run_guest(assemble_guest(isa, template.format(nr=nr, cmd=cmd, setup=setup)), debug_build=debug)
    assert result.stop.exit_code == ExitCode.POWEROFF, result.stop
    fmt = "<6Q" if isa == "a64" else "<6I"
    return struct.unpack(fmt, result.console[:struct.calcsize(fmt)])


@pytest.mark.parametrize("isa", ["a64", "a32", "t32"])
def test_release_build_preserves_argument_and_number_registers(isa):
    x0, x1, x2, x3, x4, nr = regs_after(isa, 17, 0, debug=False)
    assert x0 == 0x40011
    if isa == "a64":
        assert (x1, x2, x3, x4, nr) == (0x1111111111111111, 0x2222222222222222, 0x3333333333333333,
                                        0x4444444444444444, 17)
    else:
        assert (x1, x2, x3, x4, nr) == (0x11111111, 0x22222222, 0x33333333, 0x44444444, 17)


@pytest.mark.parametrize("isa", ["a64", "a32", "t32"])
def test_debug_build_poisons_used_argument_registers_and_the_number(isa):
    # xen_version has 2 arguments: x1 (arg2) and x16/r12 are poisoned, x2..x4 untouched
    x0, x1, x2, x3, x4, nr = regs_after(isa, 17, 0, debug=True)
    assert x0 == 0x40011 and x1 == 0xDEADBEEF and nr == 0xDEADBEEF
    assert x2 & M32 == 0x22222222 and x4 & M32 == 0x44444444


def test_debug_build_console_io_poisons_three():
    setup = "mov x1, #0\n    adr x2, scratch"
    x0, x1, x2, x3, x4, nr = regs_after("a64", 18, 0, debug=True, setup=setup)
    assert (x0, x1, x2, nr) == (0, 0xDEADBEEF, 0xDEADBEEF, 0xDEADBEEF)
    assert x3 == 0x3333333333333333


@pytest.mark.parametrize("nr,cmd", [(99, 0), (15, 0), (17, 11)])
def test_debug_build_does_not_poison_on_enosys(nr, cmd):
    x0, x1, _, _, _, number = regs_after("a64", nr, cmd, debug=True)
    assert x0 == (-38) & 0xFFFFFFFFFFFFFFFF and x1 == 0x1111111111111111 and number == nr


@pytest.mark.parametrize("isa", ["a64", "a32"])
def test_unknown_numbers_are_enosys(isa):
    x0 = regs_after(isa, 99, 0, debug=False)[0]
    assert x0 == ((-38) & (0xFFFFFFFFFFFFFFFF if isa == "a64" else M32))


def test_a64_bad_guest_pointer_is_efault():
    setup = "ldr x1, =0xffffffff0000"
    assert regs_after("a64", 17, 1, debug=False, setup=setup)[0] == (-14) & 0xFFFFFFFFFFFFFFFF


def test_a32_number_register_is_32_bit():
    """r12 = 0x111 is not xen_version (the whole register is the number)."""
    assert regs_after("a32", 0x111, 0, debug=False)[0] == (-38) & M32


# -- the wrong immediate ---------------------------------------------------------------------------
A64_UNDEF = """
    adr x0, vectors
    msr vbar_el1, x0
    isb
hvc_insn:
    hvc #0x1234
    b .
    .balign 2048
vectors:
    .space 0x200
    // current EL with SPx, synchronous
    adr x9, scratch
    mrs x0, esr_el1
    mrs x1, elr_el1
    adr x2, hvc_insn
    sub x1, x1, x2
    mrs x3, spsr_el1
    mrs x4, daif
    stp x0, x1, [x9]
    stp x3, x4, [x9, #16]
    mov x0, #0
    mov x1, #32
    mov x2, x9
    xen_hypercall __HYPERVISOR_console_io
    shutdown 0
    .balign 8
scratch: .space 64
"""


def test_a64_wrong_immediate_injects_undef_like_xen():
    result = run_guest(assemble_guest("a64", A64_UNDEF))
    assert result.stop.exit_code == ExitCode.POWEROFF, result.stop
    esr, elr_off, spsr, daif = struct.unpack("<4Q", result.console[:32])
    # the values real Xen gave the probe guest (guests/probe/probe-a64.transcript.txt)
    assert esr == 0x2000000  # EC=0 (unknown), IL=1
    assert elr_off == 4  # ELR_EL1 is past the HVC
    assert spsr == 0x1C5  # EL1h with A, I, F masked, as Xen boots a guest (PSR_GUEST64_INIT)
    assert daif == 0x3C0
    assert "d0v0 Invalid HVC imm 0x1234" in result.log
    assert any(r.kind == "undef" for r in result.trace)


A32_UNDEF = """
    adr r0, vectors
    mcr p15, 0, r0, c12, c0, 0
    isb
    adr r0, und_stack_top
    cps #0x1b
    mov sp, r0
    cps #0x13
    {call}
    b .
arm_hvc:
    hvc #0x1234
    b .
    .thumb
    .thumb_func
thumb_hvc:
    hvc #0x1234
    b .
    .arm
    .balign 32
vectors:
    b .
    b und_handler
    .space 24
und_handler:
    adr r9, scratch
    mrs r0, cpsr
    mrs r1, spsr
    mov r2, lr
    {hvc_addr}
    sub r2, r2, r3
    stm r9, {{r0-r2}}
    mov r0, #0
    mov r1, #12
    mov r2, r9
    xen_hypercall __HYPERVISOR_console_io
    shutdown 0
    .balign 8
scratch: .space 64
    .space 256
und_stack_top:
"""


@pytest.mark.parametrize("isa", ["a32", "t32"])
@pytest.mark.parametrize("state", ["arm", "thumb"])
def test_a32_wrong_immediate_injects_undef_like_xen(isa, state):
    call = "b arm_hvc" if state == "arm" else "adr r0, thumb_hvc + 1\n    bx r0"
    hvc_addr = "adr r3, arm_hvc" if state == "arm" else "adr r3, thumb_hvc"
    body = A32_UNDEF.format(call=call, hvc_addr=hvc_addr)
    if isa == "t32":  # enter the body in ARM state even in a Thumb image
        body = "    adr r0, 1f\n    bx r0\n    .arm\n    .balign 4\n1:\n" + body
    result = run_guest(assemble_guest(isa, body))
    assert result.stop.exit_code == ExitCode.POWEROFF, result.stop
    cpsr, spsr, lr_off = struct.unpack("<3I", result.console[:12])
    assert cpsr & 0x1F == 0x1B  # Undefined mode
    assert cpsr & 0x80  # IRQs masked
    assert not cpsr & 0x20  # SCTLR.TE = 0: handler in ARM state
    assert spsr & 0x1F == 0x13 and bool(spsr & 0x20) == (state == "thumb")
    # LR_und = saved PC (past the 4-byte HVC) + 4 (ARM) or + 2 (Thumb)
    assert lr_off == (8 if state == "arm" else 6)


@pytest.mark.parametrize("isa", ["a64", "a32", "t32"])
def test_wrong_immediate_without_vectors_stops_the_run(isa):
    result = run_guest(assemble_guest(isa, "hvc #0x4321\n    b ."))
    assert result.stop.kind == StopKind.GUEST_EXCEPTION
    assert result.stop.exit_code == ExitCode.GUEST_EXCEPTION
    assert "no exception vector" in result.stop.detail


# -- SMCCC / PSCI ----------------------------------------------------------------------------------
@pytest.mark.parametrize("isa,fid,code", [
    ("a64", 0x84000008, ExitCode.POWEROFF), ("a64", 0x84000009, ExitCode.REBOOT),
    ("a32", 0x84000008, ExitCode.POWEROFF), ("t32", 0x84000009, ExitCode.REBOOT),
])
def test_psci_system_off_and_reset(isa, fid, code):
    reg = "w0" if isa == "a64" else "r0"
    result = run_guest(assemble_guest(isa, f"ldr {reg}, ={fid:#x}\n    hvc #0\n    b .\n    .ltorg"))
    assert result.stop.exit_code == code
    assert result.trace[-1].kind == "smccc"


@pytest.mark.parametrize("isa", ["a64", "a32"])
def test_smccc_version_and_unknown(isa):
    x = "x" if isa == "a64" else "r"
    w = "w" if isa == "a64" else "r"
    body = f"""
    ldr {w}0, =0x80000000
    hvc #0
    mov {x}5, {x}0
    ldr {w}0, =0x12345678
    hvc #0
    mov {x}6, {x}0
    adr {x}9, scratch
    str {x}5, [{x}9]
    str {x}6, [{x}9, #8]
    mov {x}0, #0
    mov {x}1, #16
    mov {x}2, {x}9
    xen_hypercall __HYPERVISOR_console_io
    shutdown 0
    .ltorg
    .balign 8
scratch: .space 16
"""
    result = run_guest(assemble_guest(isa, body))
    fmt = "<QQ" if isa == "a64" else "<I4xI"
    version, unknown = struct.unpack(fmt, result.console[:16 if isa == "a64" else 12])
    assert version == 0x10001
    assert unknown == (0xFFFFFFFFFFFFFFFF if isa == "a64" else M32)
    assert "d0v0 Unhandled SMC/HVC: 0x12345678" in result.log


# -- stop reasons and limits -----------------------------------------------------------------------
@pytest.mark.parametrize("reason,code", [(0, ExitCode.POWEROFF), (1, ExitCode.REBOOT), (2, ExitCode.SUSPEND),
                                         (3, ExitCode.CRASH), (4, ExitCode.WATCHDOG), (5, ExitCode.SOFT_RESET),
                                         (9, ExitCode.SHUTDOWN_OTHER)])
def test_shutdown_reasons_give_exit_codes(reason, code):
    assert run_guest(assemble_guest("a32", f"shutdown {reason}")).stop.exit_code == code


def test_runaway_guest_hits_the_instruction_limit():
    result = run_guest(assemble_guest("a64", "1: b 1b"), max_instructions=100_000)
    assert result.stop.kind == StopKind.INSTRUCTION_LIMIT and result.exit_code == ExitCode.INSTRUCTION_LIMIT


def test_runaway_guest_hits_the_time_limit():
    result = run_guest(assemble_guest("t32", "1: b 1b"), timeout=0.3)
    assert result.stop.kind == StopKind.TIME_LIMIT and result.exit_code == ExitCode.TIME_LIMIT


def test_block_with_nothing_to_wake_is_idle():
    result = run_guest(assemble_guest("a64", "mov x0, #1\n    mov x1, #0\n    xen_hypercall __HYPERVISOR_sched_op\n    b ."))
    assert result.stop.kind == StopKind.IDLE and result.exit_code == ExitCode.IDLE


def test_watchdog_fires_while_blocked():
    body = """
    adr x1, wd
    mov x0, #6
    xen_hypercall __HYPERVISOR_sched_op
    mov x0, #1
    mov x1, #0
    xen_hypercall __HYPERVISOR_sched_op
    b .
    .balign 4
wd: .word 0, 30
"""
    result = run_guest(assemble_guest("a64", body))  # 30 s of guest time pass at once while idle
    assert result.exit_code == ExitCode.WATCHDOG
    assert "Watchdog timer fired for domain 0" in result.log


@pytest.mark.parametrize("isa,insn", [("a64", "mov x1, #0\n    ldr x0, [x1]"), ("a32", "mov r1, #0\n    ldr r0, [r1]"),
                                      ("a64", "mov x1, #0\n    br x1")])
def test_guest_access_to_unmapped_memory_stops_with_a_diagnostic(isa, insn):
    result = run_guest(assemble_guest(isa, insn + "\n    b ."))
    assert result.stop.kind == StopKind.GUEST_EXCEPTION
    assert "abort" in result.stop.detail


def test_undefined_instruction_in_guest_stops():
    result = run_guest(assemble_guest("a64", ".word 0x00000000\n    b ."))
    assert result.stop.kind == StopKind.GUEST_EXCEPTION
    assert "undefined instruction" in result.stop.detail


def test_memory_option_moves_nothing_for_dom0_default():
    result = run_guest(assemble_guest("a64", "shutdown 0"), RunConfig(memory=64 << 20, trace=True))
    assert result.entry == 0x70000000 and result.dtb_addr == 0x70000000 + (64 << 20) - (2 << 20)


def test_entry_registers_follow_the_boot_protocol():
    a64 = """
    adr x9, scratch
    stp x0, x1, [x9]
    stp x2, x3, [x9, #16]
    mov x0, #0
    mov x1, #32
    mov x2, x9
    xen_hypercall __HYPERVISOR_console_io
    shutdown 0
    .balign 8
scratch: .space 32
"""
    result = run_guest(assemble_guest("a64", a64))
    assert struct.unpack("<4Q", result.console) == (result.dtb_addr, 0, 0, 0)
    a32 = """
    adr r9, scratch
    stm r9, {r0-r2}
    mrs r3, cpsr
    str r3, [r9, #12]
    mov r0, #0
    mov r1, #16
    mov r2, r9
    xen_hypercall __HYPERVISOR_console_io
    shutdown 0
    .balign 8
scratch: .space 16
"""
    result = run_guest(assemble_guest("a32", a32))
    r0, r1, r2, cpsr = struct.unpack("<4I", result.console)
    assert (r0, r1, r2) == (0, 0xFFFFFFFF, result.dtb_addr)
    assert cpsr & 0x1FF == 0x1D3  # SVC, A I F masked


def _link_elf(tmp_path, isa: str, body: str) -> bytes:
    import subprocess

    from xenhvc.testing import hypercall_prelude

    cross = "aarch64-linux-gnu-" if isa == "a64" else "arm-linux-gnueabihf-"
    head = "" if isa == "a64" else ".syntax unified\n.arch armv7-a\n.arch_extension virt\n.thumb\n.thumb_func\n"
    (tmp_path / "g.S").write_text(hypercall_prelude() + head + ".globl _start\n_start:\n" + body + "\n")
    flags = [] if isa == "a64" else ["-march=armv7ve"]
    subprocess.run([cross + "as", *flags, "-o", tmp_path / "g.o", tmp_path / "g.S"], check=True)
    subprocess.run([cross + "ld", "-Ttext=0x70010000", "-e", "_start", "-o", tmp_path / "g.elf", tmp_path / "g.o"],
                   check=True)
    return (tmp_path / "g.elf").read_bytes()


def test_elf64_guest_runs_at_its_physical_address(tmp_path):
    body = """
    adr x1, 1f
    mov x0, #2
    mov x16, #__HYPERVISOR_sched_op
    hvc #0xea1
    b .
    .balign 4
1:  .word 1
"""
    result = run_guest(_link_elf(tmp_path, "a64", body))
    assert result.entry == 0x70010000 and result.exit_code == ExitCode.REBOOT


def test_elf32_thumb_entry_runs_in_thumb(tmp_path):
    body = """
    movs r0, #2
    adr r1, 1f
    mov.w r12, #__HYPERVISOR_sched_op
    hvc.w #0xea1
    b .
    .balign 4
1:  .word 3
"""
    result = run_guest(_link_elf(tmp_path, "t32", body))
    assert result.exit_code == ExitCode.CRASH
    assert result.trace[0].name == "sched_op"


def test_gzip_image_runs():
    import gzip

    from tests.conftest import EXAMPLES

    result = run_guest(gzip.compress((EXAMPLES / "hello-a64.Image").read_bytes()))
    assert result.console == b"Hello from A64 guest on Xen!\n" and result.exit_code == 0


MMU_ON = """
    adr x0, l1
    adr x1, l2
    orr x2, x1, #3
    str x2, [x0, #8]              // L1[1] -> l2: VA 0x40000000-0x7fffffff
    ldr x3, =0x70000401           // 2 MiB blocks, AF: identity for guest RAM
    mov x4, #0x180
1:  str x3, [x1, x4, lsl #3]
    add x3, x3, #0x200000
    add x4, x4, #1
    cmp x4, #0x1c0
    b.ne 1b
    ldr x3, =0x70000401
    str x3, [x1, #8]              // VA 0x40200000 -> PA 0x70000000, writable
    ldr x3, =0x70000481
    str x3, [x1, #24]             // VA 0x40600000 -> PA 0x70000000, read-only (AP[2])
    msr ttbr0_el1, x0
    mov x0, #0xff
    msr mair_el1, x0
    ldr x0, =0x800019             // T0SZ=25, 4K granule, EPD1
    msr tcr_el1, x0
    isb
    mrs x0, sctlr_el1
    orr x0, x0, #1
    msr sctlr_el1, x0
    isb
    adr x9, buf
    ldr x10, =0x70000000
    sub x9, x9, x10               // buf's offset in the first 2 MiB
    ldr x10, =0x40200000
    add x11, x9, x10              // buf through the writable alias
    ldr x10, =0x40600000
    add x12, x9, x10              // buf through the read-only alias
    mov x0, #1
    mov x1, x11
    xen_hypercall __HYPERVISOR_xen_version   // copy_to_guest through stage 1
    mov x19, x0
    mov x0, #1
    mov x1, x12
    xen_hypercall __HYPERVISOR_xen_version   // a write through a read-only mapping
    mov x20, x0
    mov x0, #1
    ldr x1, =0x40400000
    xen_hypercall __HYPERVISOR_xen_version   // an unmapped VA
    mov x21, x0
    adr x9, buf
    stp x19, x20, [x9, #16]
    str x21, [x9, #32]
    mov x0, #0
    mov x1, #40
    mov x2, x12
    xen_hypercall __HYPERVISOR_console_io    // copy_from_guest through the read-only alias
    shutdown 0
    .ltorg
    .balign 16
buf: .space 48
    .balign 4096
l1: .space 4096
l2: .space 4096
"""


def test_hypercall_pointers_are_translated_through_the_guests_stage1_tables():
    result = run_guest(assemble_guest("a64", MMU_ON))
    assert result.exit_code == ExitCode.POWEROFF, result.stop
    extra, ok, readonly, unmapped = result.console[:16], *struct.unpack("<3q", result.console[16:40])
    assert extra.rstrip(b"\0") == b".7" and ok == 0
    assert readonly == -14 and unmapped == -14  # -EFAULT: no write permission / no translation
