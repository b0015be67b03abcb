"""Synchronous exceptions taken into an A64 guest's own EL1 vectors (Cpu.take_exception): SVC,
BRK, an undefined instruction, data and prefetch aborts with the MMU on, from EL1h, EL1t and EL0.

Every guest below shares one vector table: each of the 16 entries notes its offset and jumps to
a common handler that records what the CPU handed it (ESR_EL1, ELR_EL1, SPSR_EL1, FAR_EL1, SP,
SP_EL0, CurrentEL, DAIF, SPSel) and returns: past the instruction (ELR + 4) for BRK, UDF and
data aborts, to x30 for a prefetch abort (the test branches with BLR), as is for an SVC; an
exception from EL0 ends in the report instead. The body fills eight "vals" with what it
expects or saw; the guest writes vals and the records to the console and powers off."""
import struct

import pytest

from xenhvc import ExitCode, StopKind
from xenhvc.testing import assemble_guest, run_guest

REC_FIELDS = ("vector", "esr", "elr", "spsr", "far", "sp", "sp_el0", "currentel", "daif", "spsel")
MAX_RECS = 8
OUT_SIZE = 8 * 8 + 8 + 8 * len(REC_FIELDS) * MAX_RECS

EC_UNKNOWN, EC_SVC64, EC_IABT_CUR, EC_DABT_CUR, EC_BRK64 = 0x00, 0x15, 0x21, 0x25, 0x3C
IL = 1 << 25
FSC_TRANSLATION_L1 = 0x05
EL1 = 1 << 2  # CurrentEL
DAIF = 0x3C0
PSR_D, PSR_I, PSR_F = 0x200, 0x80, 0x40
EL0T, EL1T, EL1H = 0x0, 0x4, 0x5

TEMPLATE = """
    adr     x0, kstack_top
    mov     sp, x0
    adr     x0, vectors
    msr     vbar_el1, x0
    isb
{body}
report:
    adr     x2, out
    mov     x0, #0
    mov     x1, #{out_size}
    xen_hypercall __HYPERVISOR_console_io
    shutdown 0
    .ltorg

    .balign 2048
vectors:
    .irp    off, 0x000,0x080,0x100,0x180,0x200,0x280,0x300,0x380,0x400,0x480,0x500,0x580,0x600,0x680,0x700,0x780
    .org    vectors + \\off
    mov     x15, #\\off
    b       handler
    .endr
handler:
    adr     x9, nrec
    ldr     x10, [x9]
    cmp     x10, #{max_recs}
    b.hs    runaway
    add     x11, x10, #1
    str     x11, [x9]
    mov     x12, #{rec_size}
    adr     x9, recs
    madd    x9, x10, x12, x9
    mrs     x11, esr_el1
    stp     x15, x11, [x9]
    mrs     x11, elr_el1
    mrs     x12, spsr_el1
    stp     x11, x12, [x9, #16]
    mrs     x11, far_el1
    mov     x12, sp
    stp     x11, x12, [x9, #32]
    mrs     x11, sp_el0
    mrs     x12, CurrentEL
    stp     x11, x12, [x9, #48]
    mrs     x11, daif
    mrs     x12, spsel
    stp     x11, x12, [x9, #64]
    cmp     x15, #0x400
    b.eq    report                  // from EL0: finish at EL1
    mrs     x11, esr_el1
    lsr     x11, x11, #26
    cmp     x11, #0x15              // SVC: ELR is already past it
    b.eq    1f
    cmp     x11, #0x21              // prefetch abort: back to the BLR's return address
    b.ne    2f
    msr     elr_el1, x30
    b       1f
2:  mrs     x11, elr_el1            // BRK, UDF, data abort: past the instruction
    add     x11, x11, #4
    msr     elr_el1, x11
1:  eret
runaway:
    shutdown 3                      // crash: exceptions without end

    .balign 8
out:
vals: .space 64
nrec: .quad 0
recs: .space {recs_size}
    .balign 16
    .space 1024
kstack_top:
    .space 1024
ustack_top:
    .space 1024
el1t_stack_top:
    .space 16
"""


def run(body: str, **kw):
    src = TEMPLATE.format(body=body, out_size=OUT_SIZE, max_recs=MAX_RECS, rec_size=8 * len(REC_FIELDS),
                          recs_size=8 * len(REC_FIELDS) * MAX_RECS)
    result = run_guest(assemble_guest("a64", src), **kw)
    assert result.stop.exit_code == ExitCode.POWEROFF, result.stop
    words = struct.unpack(f"<{OUT_SIZE // 8}Q", result.console[:OUT_SIZE])
    vals, n = words[:8], words[8]
    recs = [dict(zip(REC_FIELDS, words[9 + i * len(REC_FIELDS):9 + (i + 1) * len(REC_FIELDS)])) for i in range(n)]
    return vals, recs


def _ec(esr: int) -> int:
    return esr >> 26


# After the return: SP, CurrentEL, SPSel, DAIF and NZCV into vals[3..7].
AFTER = """
    adr     x1, vals
    mov     x0, #0x77
    str     x0, [x1, #16]
    mov     x0, sp
    str     x0, [x1, #24]
    mrs     x0, CurrentEL
    str     x0, [x1, #32]
    mrs     x0, spsel
    str     x0, [x1, #40]
    mrs     x0, daif
    str     x0, [x1, #48]
    mrs     x0, nzcv
    str     x0, [x1, #56]
"""


def el1h_body(insn: str) -> str:
    """NZCV = Z and C, D, I and F masked, A clear; record SP and the instruction's address, run
    ``insn``, note that execution went on after it."""
    return f"""
    adr     x1, vals
    mov     x0, sp
    str     x0, [x1]
    adr     x0, the_insn
    str     x0, [x1, #8]
    msr     daifset, #0xf
    msr     daifclr, #4
    mov     x0, #0x60000000
    msr     nzcv, x0
the_insn:
    {insn}
{AFTER}
"""


SPSR_BEFORE = 0x60000000 | PSR_D | PSR_I | PSR_F | EL1H


def check_el1h_entry(rec: dict, sp: int) -> None:
    """Taken from EL1h to the current-EL SPx group, in EL1h with DAIF masked, on the same SP."""
    assert rec["vector"] == 0x200
    assert rec["spsr"] == SPSR_BEFORE
    assert rec["currentel"] == EL1 and rec["spsel"] == 1 and rec["daif"] == DAIF
    assert rec["sp"] == sp


def check_returned(vals, sp: int) -> None:
    """ERET restored SPSR: back in EL1h on the same SP with the flags and masks of before."""
    assert vals[2] == 0x77, "execution did not continue after the exception"
    assert vals[3] == sp
    assert (vals[4], vals[5], vals[6], vals[7]) == (EL1, 1, PSR_D | PSR_I | PSR_F, 0x60000000)


def test_svc_at_el1h():
    vals, recs = run(el1h_body("svc #0x42"))
    assert len(recs) == 1
    rec, sp, insn = recs[0], vals[0], vals[1]
    assert rec["esr"] == 0x56000042 == (EC_SVC64 << 26) | IL | 0x42
    assert rec["elr"] == insn + 4  # preferred return: the instruction after the SVC
    check_el1h_entry(rec, sp)
    check_returned(vals, sp)


def test_brk_at_el1h():
    vals, recs = run(el1h_body("brk #0x800"))
    assert len(recs) == 1
    rec, sp, insn = recs[0], vals[0], vals[1]
    assert rec["esr"] == (EC_BRK64 << 26) | IL | 0x800
    assert rec["elr"] == insn  # the BRK itself
    check_el1h_entry(rec, sp)
    check_returned(vals, sp)


def test_undefined_instruction_at_el1h():
    # UDF #1: not one of the UDF #0xE0xx the loader writes for generic-timer accesses
    vals, recs = run(el1h_body("udf #1"))
    assert len(recs) == 1
    rec, sp, insn = recs[0], vals[0], vals[1]
    assert rec["esr"] == (EC_UNKNOWN << 26) | IL
    assert rec["elr"] == insn
    check_el1h_entry(rec, sp)
    check_returned(vals, sp)


def test_successive_exceptions_each_get_their_own_syndrome():
    """The saved context take_exception reads the syndrome from is reused: each exception must
    still see its own ESR and ELR, not the previous one's."""
    body = """
    adr     x1, vals
    adr     x0, e1
    str     x0, [x1]
    adr     x0, e3
    str     x0, [x1, #8]
e1: svc     #0x1
    brk     #0x2
e3: udf     #3
    svc     #0xffff
    adr     x1, vals
    mov     x0, #0x77
    str     x0, [x1, #16]
"""
    vals, recs = run(body)
    e1, e3 = vals[0], vals[1]
    assert vals[2] == 0x77
    got = [(_ec(r["esr"]), r["esr"] & 0x3FFFFFF, r["elr"]) for r in recs]
    assert got == [(EC_SVC64, IL | 0x1, e1 + 4), (EC_BRK64, IL | 0x2, e1 + 4), (EC_UNKNOWN, IL, e3),
                   (EC_SVC64, IL | 0xFFFF, e3 + 8)]


def test_svc_from_el0_arrives_at_the_lower_el_vector_on_the_kernel_stack():
    body = """
    adr     x1, vals
    mov     x0, sp
    str     x0, [x1]                // the kernel's SP (SP_EL1 once at EL0)
    adr     x0, ustack_top
    sub     x0, x0, #32
    str     x0, [x1, #8]            // the user SP at the SVC
    adr     x0, el0_svc
    add     x0, x0, #4
    str     x0, [x1, #16]           // the expected ELR
    adr     x0, ustack_top
    msr     sp_el0, x0
    adr     x0, el0_code
    msr     elr_el1, x0
    mov     x0, #0x3c0              // EL0t, D, A, I, F masked
    msr     spsr_el1, x0
    eret
el0_code:
    sub     sp, sp, #32             // the user SP moves (SP_EL0 as banked at the ERET is stale)
    mov     x0, #0x80000000
    msr     nzcv, x0
el0_svc:
    svc     #0x7
    b       .
"""
    vals, recs = run(body)
    assert len(recs) == 1
    rec = recs[0]
    kernel_sp, user_sp, elr = vals[0], vals[1], vals[2]
    assert kernel_sp != user_sp
    assert rec["vector"] == 0x400  # lower EL, AArch64
    assert rec["esr"] == (EC_SVC64 << 26) | IL | 0x7
    assert rec["elr"] == elr
    assert rec["spsr"] == 0x80000000 | DAIF | EL0T
    assert rec["currentel"] == EL1 and rec["spsel"] == 1 and rec["daif"] == DAIF
    assert rec["sp"] == kernel_sp, "the handler must run on SP_EL1, not the user's stack"
    assert rec["sp_el0"] == user_sp, "SP_EL0 must hold the user SP at the SVC"


def test_svc_from_el1t_arrives_at_the_sp0_vector_and_returns_to_sp_el0():
    body = """
    adr     x1, vals
    mov     x0, sp
    str     x0, [x1]                // SP_EL1 once on SP_EL0
    adr     x0, el1t_stack_top
    msr     sp_el0, x0
    msr     spsel, #0
    sub     sp, sp, #16
    mov     x0, sp
    str     x0, [x1, #8]            // the EL1t SP at the SVC
    adr     x0, t_svc
    str     x0, [x1, #16]
t_svc:
    svc     #0x9
    adr     x1, vals
    mov     x0, sp
    str     x0, [x1, #24]           // the SP after the return
    mrs     x0, spsel
    str     x0, [x1, #32]
    msr     spsel, #1
    mov     x0, sp
    str     x0, [x1, #40]           // SP_EL1 after all that
"""
    vals, recs = run(body)
    assert len(recs) == 1
    rec = recs[0]
    kernel_sp, t_sp, svc = vals[0], vals[1], vals[2]
    assert rec["vector"] == 0x000  # current EL with SP_EL0
    assert rec["esr"] == (EC_SVC64 << 26) | IL | 0x9
    assert rec["elr"] == svc + 4
    assert rec["spsr"] & 0x1F == EL1T
    assert rec["currentel"] == EL1 and rec["spsel"] == 1 and rec["daif"] == DAIF
    assert rec["sp"] == kernel_sp and rec["sp_el0"] == t_sp
    assert (vals[3], vals[4]) == (t_sp, 0), "ERET to EL1t must run on SP_EL0 again"
    assert vals[5] == kernel_sp


# MMU on: the 1 GiB block holding the guest identity-mapped (L1 block, 4K granule, T0SZ = 25),
# nothing else; then a load from and a branch to unmapped VAs.
MMU_ON = """
    adr     x0, l1
    adr     x1, _start
    lsr     x2, x1, #30
    lsl     x3, x2, #30
    mov     x4, #0x401              // block, AF, AttrIndx 0
    orr     x3, x3, x4
    str     x3, [x0, x2, lsl #3]
    msr     ttbr0_el1, x0
    mov     x0, #0xff
    msr     mair_el1, x0
    ldr     x0, =0x800019           // T0SZ = 25, EPD1
    msr     tcr_el1, x0
    isb
    mrs     x0, sctlr_el1
    orr     x0, x0, #1
    msr     sctlr_el1, x0
    isb
"""
UNMAPPED_DATA, UNMAPPED_CODE = 0x7F_0000_1238, 0x7F_0000_3000


def test_data_abort_with_the_mmu_on():
    body = MMU_ON + f"""
    adr     x1, vals
    adr     x0, da
    str     x0, [x1]
    ldr     x0, ={UNMAPPED_DATA:#x}
da: ldr     x2, [x0]
    adr     x1, vals
    mov     x0, #0x77
    str     x0, [x1, #16]
    b       report
    .ltorg
    .balign 4096
l1: .space 4096
"""
    vals, recs = run(body)
    assert len(recs) == 1
    rec, da = recs[0], vals[0]
    assert vals[2] == 0x77
    assert rec["vector"] == 0x200
    esr = rec["esr"]
    assert _ec(esr) == EC_DABT_CUR and esr & IL
    assert esr & 0x3F == FSC_TRANSLATION_L1 and not esr & (1 << 6)  # DFSC; WnR = 0: a read
    assert rec["far"] == UNMAPPED_DATA
    assert rec["elr"] == da


def test_prefetch_abort_with_the_mmu_on():
    body = MMU_ON + f"""
    adr     x1, vals
    adr     x0, pa_ret
    str     x0, [x1]
    ldr     x5, ={UNMAPPED_CODE:#x}
    blr     x5
pa_ret:
    adr     x1, vals
    mov     x0, #0x77
    str     x0, [x1, #16]
    b       report
    .ltorg
    .balign 4096
l1: .space 4096
"""
    vals, recs = run(body)
    assert len(recs) == 1
    rec = recs[0]
    assert vals[2] == 0x77
    assert rec["vector"] == 0x200
    esr = rec["esr"]
    assert _ec(esr) == EC_IABT_CUR and esr & IL and esr & 0x3F == FSC_TRANSLATION_L1
    assert rec["far"] == UNMAPPED_CODE
    assert rec["elr"] == UNMAPPED_CODE


@pytest.mark.parametrize("insn,word,name,after", [
    ("svc #0", 0xD4000001, "supervisor call (SVC)", 4),
    ("brk #0", 0xD4200000, "breakpoint", 0),
    ("udf #1", 0x00000001, "undefined instruction", 0),
])
def test_no_vectors_stops_the_run(insn, word, name, after):
    """MMU off and VBAR_EL1 + the vector offset outside RAM: the run stops with exit 30 and
    names the exception, at the PC the CPU left (past an SVC, else the instruction)."""
    image = assemble_guest("a64", f"""
    msr     vbar_el1, xzr
    isb
    {insn}
    shutdown 0
""")
    offset = 64 + 8  # the Image header, then the MSR and the ISB
    assert int.from_bytes(image[offset:offset + 4], "little") == word
    result = run_guest(image)
    assert result.stop.kind == StopKind.GUEST_EXCEPTION
    assert result.exit_code == ExitCode.GUEST_EXCEPTION == 30
    assert result.stop.detail == f"guest took an unhandled {name} at {result.entry + offset + after:#x}"
