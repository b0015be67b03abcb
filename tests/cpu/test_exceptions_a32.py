"""Exceptions taken into an AArch32 guest's own vectors (Cpu.take_exception, TrapEntry.on_invalid):
SVC from User and SVC mode, undefined instructions in ARM and Thumb state, data and prefetch
aborts with the MMU on (short-descriptor and LPAE tables), the generic timer's PPI through the
vGIC into the IRQ vector; and the run stopping where there are no vectors.

Every guest shares one vector table (ARM code, SCTLR.TE = 0): each of the 8 entries branches to
a stub that notes its offset and jumps to a common handler, which records what the CPU handed
it (LR and SPSR of the mode it runs in, CPSR, SP, DFSR, DFAR, IFSR, IFAR) and returns: past the
SVC or UDF (``movs pc, lr``), past the faulting load for a data abort (``subs pc, lr, #4``), to
r7 for a prefetch abort (the test branches with BLX and leaves the return address in r7). An
SVC from User mode ends in the report instead. The body fills eight "vals" with what it expects
or saw; the guest writes vals and the records to the console and powers off."""
import struct

import pytest

from xenhvc import ExitCode, StopKind
from xenhvc.testing import assemble_guest, run_guest

REC_FIELDS = ("vector", "lr", "spsr", "cpsr", "sp", "dfsr", "dfar", "ifsr", "ifar")
MAX_RECS = 8
N_VALS = 8
OUT_SIZE = 4 * N_VALS + 4 + 4 * len(REC_FIELDS) * MAX_RECS

MODE_USR, MODE_SVC, MODE_ABT, MODE_UND, MODE_SYS = 0x10, 0x13, 0x17, 0x1B, 0x1F
PSR_T, PSR_F, PSR_I, PSR_A = 1 << 5, 1 << 6, 1 << 7, 1 << 8
VEC_UND, VEC_SVC, VEC_PABT, VEC_DABT, VEC_IRQ = 0x04, 0x08, 0x0C, 0x10, 0x18
FSR_LPAE, FSR_WNR = 1 << 9, 1 << 11

TEMPLATE = """
    fadr    r0, kstack_top
    mov     sp, r0
    fadr    r0, vectors
    mcr     p15, 0, r0, c12, c0, 0  @ VBAR
    isb
{body}
    fadr    r0, report
    bx      r0                      @ to ARM state (a T32 body ends here too)
    .ltorg

    .arm
    .balign 32
vectors:
    .irp    off, 0,4,8,12,16,20,24,28
    b       vec\\off
    .endr
    .irp    off, 0,4,8,12,16,20,24,28
vec\\off:
    mov     r11, #\\off
    b       handler
    .endr
handler:
    adrl    r9, nrec
    ldr     r10, [r9]
    cmp     r10, #{max_recs}
    bhs     runaway
    add     r12, r10, #1
    str     r12, [r9]
    mov     r12, #{rec_size}
    adrl    r9, recs
    mla     r9, r10, r12, r9
    str     r11, [r9]
    str     lr, [r9, #4]
    mrs     r10, spsr
    str     r10, [r9, #8]
    mrs     r10, cpsr
    str     r10, [r9, #12]
    mov     r10, sp
    str     r10, [r9, #16]
    mrc     p15, 0, r10, c5, c0, 0  @ DFSR
    str     r10, [r9, #20]
    mrc     p15, 0, r10, c6, c0, 0  @ DFAR
    str     r10, [r9, #24]
    mrc     p15, 0, r10, c5, c0, 1  @ IFSR
    str     r10, [r9, #28]
    mrc     p15, 0, r10, c6, c0, 2  @ IFAR
    str     r10, [r9, #32]
    cmp     r11, #{vec_svc}
    bne     1f
    mrs     r10, spsr
    and     r10, r10, #0x1f
    cmp     r10, #{mode_usr}
    beq     report                  @ from User mode: finish in SVC mode
    movs    pc, lr                  @ SVC: LR is the next instruction
1:  cmp     r11, #{vec_und}
    bne     2f
    movs    pc, lr                  @ UDF: LR is past it (ARM + 4, Thumb + 2)
2:  cmp     r11, #{vec_dabt}
    bne     3f
    subs    pc, lr, #4              @ data abort: LR = the load + 8; skip it
3:  cmp     r11, #{vec_pabt}
    bne     runaway
    movs    pc, r7                  @ prefetch abort: back where the body said
runaway:
    shutdown 3                      @ an unexpected vector, or exceptions without end

report:
    adrl    r2, out
    mov     r0, #0
    ldr     r1, ={out_size}
    xen_hypercall __HYPERVISOR_console_io
    shutdown 0
    .ltorg

    .balign 8
out:
vals: .space {vals_size}
nrec: .word 0
recs: .space {recs_size}
    .balign 16
    .space 1024
kstack_top:
    .space 1024
ustack_top:
    .space 16
{tail}
"""


def run(body: str, isa: str = "a32", tail: str = ""):
    src = TEMPLATE.format(body=body, tail=tail, max_recs=MAX_RECS, rec_size=4 * len(REC_FIELDS),
                          vec_svc=VEC_SVC, vec_und=VEC_UND, vec_dabt=VEC_DABT, vec_pabt=VEC_PABT,
                          mode_usr=MODE_USR, out_size=OUT_SIZE, vals_size=4 * N_VALS,
                          recs_size=4 * len(REC_FIELDS) * MAX_RECS)
    # adr for far labels: ADRL in ARM state, ADR.W (+-4095) in Thumb state
    src = src.replace("fadr ", "adrl " if isa == "a32" else "adr.w ")
    result = run_guest(assemble_guest(isa, src), timeout=20)
    assert result.stop.kind == StopKind.SHUTDOWN and result.exit_code == ExitCode.POWEROFF, result.stop
    words = struct.unpack(f"<{OUT_SIZE // 4}I", result.console[:OUT_SIZE])
    vals, n = words[:N_VALS], words[N_VALS]
    k = len(REC_FIELDS)
    recs = [dict(zip(REC_FIELDS, words[N_VALS + 1 + i * k:N_VALS + 1 + (i + 1) * k])) for i in range(n)]
    return vals, recs


def test_svc_from_user_mode_lands_in_svc_mode_on_the_svc_stack():
    body = f"""
    fadr    r1, vals
    str     sp, [r1]                @ SP_svc
    cps     #{MODE_SYS}             @ System mode shares SP with User mode
    fadr    r0, ustack_top
    mov     sp, r0
    cps     #{MODE_SVC}
    adr     r0, user_code
    mov     lr, r0
    ldr     r0, =0x80000000 | {MODE_USR}   @ N set, I/A/F clear, User mode
    msr     spsr_cxsf, r0
    movs    pc, lr                  @ to User mode
user_code:
    sub     sp, sp, #8              @ the user SP moves
    fadr    r1, vals
    str     sp, [r1, #4]            @ the user SP at the SVC
    adr     r0, after_svc
    str     r0, [r1, #8]            @ LR_svc must be this
    mrs     r0, cpsr
    str     r0, [r1, #12]           @ the CPSR at the SVC
    svc     #0x42
after_svc:
    b       .
"""
    vals, recs = run(body)
    assert len(recs) == 1
    rec = recs[0]
    svc_sp, user_sp, after, user_cpsr = vals[:4]
    assert user_cpsr & 0x1F == MODE_USR and user_cpsr & 0xF0000000 == 0x80000000
    assert svc_sp != user_sp
    assert rec["vector"] == VEC_SVC
    assert rec["lr"] == after, "LR_svc must be the instruction after the SVC"
    assert rec["spsr"] == user_cpsr, "SPSR_svc must hold the User-mode CPSR"
    assert rec["cpsr"] & 0x1F == MODE_SVC
    assert rec["cpsr"] & PSR_I, "IRQs must be masked on SVC entry"
    assert not rec["cpsr"] & PSR_T
    assert rec["sp"] == svc_sp, "the handler must run on SP_svc, not the user's stack"


def test_svc_in_svc_mode_returns_after_it():
    body = """
    fadr    r1, vals
    adr     r0, after_svc
    str     r0, [r1]
    mrs     r0, cpsr
    bic     r0, r0, #0xf0000000
    orr     r0, r0, #0x60000000     @ Z and C
    bic     r0, r0, #0x180          @ I and A clear
    msr     cpsr_fsxc, r0
    mrs     r0, cpsr
    str     r0, [r1, #4]            @ the CPSR at the SVC
    svc     #0x42
after_svc:
    mrs     r0, cpsr
    fadr    r1, vals
    str     r0, [r1, #8]            @ the CPSR after the return
    mov     r0, #0x77
    str     r0, [r1, #12]
    str     sp, [r1, #16]
"""
    vals, recs = run(body)
    assert len(recs) == 1
    rec = recs[0]
    after, before, restored, went_on, sp = vals[:5]
    assert went_on == 0x77, "execution did not continue after the SVC"
    assert before & 0x1F == MODE_SVC and not before & (PSR_I | PSR_A)
    assert rec["vector"] == VEC_SVC
    assert rec["lr"] == after
    assert rec["spsr"] == before
    assert rec["cpsr"] & 0x1F == MODE_SVC and rec["cpsr"] & PSR_I
    assert rec["sp"] == sp
    assert restored == before, "MOVS PC, LR must restore the CPSR from SPSR_svc"


@pytest.mark.parametrize("isa,step", [("a32", 4), ("t32", 2)])
def test_undefined_instruction(isa, step):
    # UDF #1: not one of the UDFs the loader writes for generic-timer accesses (imm16 0xFxxx);
    # 16 bits in Thumb state
    body = """
    fadr    r1, vals
    adr     r0, the_udf
    str     r0, [r1]
    mrs     r0, cpsr
    str     r0, [r1, #4]
the_udf:
    udf     #1
    fadr    r1, vals
    mov     r0, #0x77
    str     r0, [r1, #8]
    mrs     r0, cpsr
    str     r0, [r1, #12]
"""
    vals, recs = run(body, isa)
    assert len(recs) == 1
    rec = recs[0]
    udf, before, went_on, after = vals[:4]
    assert not before & PSR_T  # MRS reads the execution-state bits as zero
    assert went_on == 0x77, "execution did not continue after the UDF"
    assert after == before
    assert rec["vector"] == VEC_UND
    assert rec["lr"] == (udf & ~1) + step
    assert rec["spsr"] == before | (PSR_T if isa == "t32" else 0), "SPSR_und must hold the CPSR, T included"
    assert rec["cpsr"] & 0x1F == MODE_UND and rec["cpsr"] & PSR_I and not rec["cpsr"] & PSR_T


# MMU on with the 1 MiB sections holding the guest identity-mapped, nothing else. The table
# (16 KiB aligned) is found at run time in the l1space below.
MMU_SHORT = """
    adrl    r0, l1space
    add     r0, r0, #0x4000
    sub     r0, r0, #1
    bic     r0, r0, #0x3f00
    bic     r0, r0, #0xff
    adr     r1, _start
    lsr     r2, r1, #20
    lsl     r3, r2, #20
    ldr     r4, =0xc0e              @ section, C, B, AP = 0b11
    orr     r3, r3, r4
    str     r3, [r0, r2, lsl #2]
    add     r2, r2, #1
    add     r3, r3, #0x100000
    str     r3, [r0, r2, lsl #2]
    mov     r1, #0
    mcr     p15, 0, r1, c2, c0, 2   @ TTBCR: short descriptors, N = 0
    mcr     p15, 0, r0, c2, c0, 0   @ TTBR0
    ldr     r1, =0x55555555
    mcr     p15, 0, r1, c3, c0, 0   @ DACR: clients
    isb
    mrc     p15, 0, r1, c1, c0, 0
    orr     r1, r1, #1
    mcr     p15, 0, r1, c1, c0, 0   @ SCTLR.M
    isb
"""
SHORT_TAIL = """
    .balign 4096
l1space: .space 0x8000
"""
# LPAE (TTBCR.EAE, T0SZ = 0): the 1 GiB level-1 block holding the guest, nothing else
MMU_LPAE = """
    adrl    r0, l1lpae
    adr     r1, _start
    lsr     r2, r1, #30
    lsl     r3, r2, #30
    orr     r3, r3, #0x400          @ AF
    orr     r3, r3, #0x1            @ block, AttrIndx 0
    str     r3, [r0, r2, lsl #3]     @ the high word stays 0
    mov     r1, #0xff
    mcr     p15, 0, r1, c10, c2, 0  @ MAIR0
    ldr     r1, =0x80000000
    mcr     p15, 0, r1, c2, c0, 2   @ TTBCR: EAE, T0SZ = 0
    mov     r1, #0
    mcrr    p15, 0, r0, r1, c2      @ TTBR0
    isb
    mrc     p15, 0, r1, c1, c0, 0
    orr     r1, r1, #1
    mcr     p15, 0, r1, c1, c0, 0   @ SCTLR.M
    isb
"""
LPAE_TAIL = """
    .balign 64
l1lpae: .space 64
"""
MMU = {"short": (MMU_SHORT, SHORT_TAIL), "lpae": (MMU_LPAE, LPAE_TAIL)}
# outside both the guest's sections and its 1 GiB block (the guest's RAM is at 0x40000000)
UNMAPPED_DATA, UNMAPPED_CODE = 0xBF001238, 0xBF003000


def _fault_status(fsr: int, fmt: str) -> int:
    """The fault status: FS[4:0] (short descriptors: bits 10, 3:0) or STATUS[5:0] (LPAE)."""
    if fmt == "lpae":
        return fsr & 0x3F
    return (fsr >> 6 & 0x10) | fsr & 0xF


# short-descriptor "translation fault, section" (first level); LPAE translation fault, level 1
TRANSLATION_FAULT = {"short": 0b00101, "lpae": 0b000101}


@pytest.mark.parametrize("fmt", ["short", "lpae"])
def test_data_abort_with_the_mmu_on(fmt):
    setup, tail = MMU[fmt]
    body = setup + f"""
    fadr    r1, vals
    adr     r0, da
    str     r0, [r1]
    cpsie   ai                      @ the abort must mask them
    mrs     r0, cpsr
    str     r0, [r1, #4]
    ldr     r0, ={UNMAPPED_DATA:#x}
    mov     r2, #0x55
da: ldr     r2, [r0]
    fadr    r1, vals
    str     r2, [r1, #8]            @ the load did not happen
    mov     r0, #0x77
    str     r0, [r1, #12]
"""
    vals, recs = run(body, tail=tail)
    assert len(recs) == 1, recs
    rec = recs[0]
    da, before, r2, went_on = vals[:4]
    assert went_on == 0x77 and r2 == 0x55
    assert rec["vector"] == VEC_DABT
    assert rec["lr"] == da + 8
    assert rec["dfar"] == UNMAPPED_DATA
    dfsr = rec["dfsr"]
    assert bool(dfsr & FSR_LPAE) == (fmt == "lpae"), f"DFSR {dfsr:#x}"
    assert _fault_status(dfsr, fmt) == TRANSLATION_FAULT[fmt], f"DFSR {dfsr:#x}"
    assert not dfsr & FSR_WNR, "a read"
    assert not before & (PSR_A | PSR_I) and rec["spsr"] == before
    assert rec["cpsr"] & 0x1F == MODE_ABT
    assert rec["cpsr"] & (PSR_A | PSR_I) == PSR_A | PSR_I


@pytest.mark.parametrize("fmt", ["short", "lpae"])
def test_prefetch_abort_with_the_mmu_on(fmt):
    setup, tail = MMU[fmt]
    body = setup + f"""
    fadr    r1, vals
    cpsie   ai                      @ the abort must mask them
    mrs     r0, cpsr
    str     r0, [r1, #4]
    adr     r7, pa_ret
    ldr     r5, ={UNMAPPED_CODE:#x}
    blx     r5
pa_ret:
    fadr    r1, vals
    mov     r0, #0x77
    str     r0, [r1, #12]
"""
    vals, recs = run(body, tail=tail)
    assert len(recs) == 1, recs
    rec = recs[0]
    before, went_on = vals[1], vals[3]
    assert went_on == 0x77
    assert rec["vector"] == VEC_PABT
    assert rec["lr"] == UNMAPPED_CODE + 4
    assert rec["ifar"] == UNMAPPED_CODE
    ifsr = rec["ifsr"]
    assert bool(ifsr & FSR_LPAE) == (fmt == "lpae"), f"IFSR {ifsr:#x}"
    assert _fault_status(ifsr, fmt) == TRANSLATION_FAULT[fmt], f"IFSR {ifsr:#x}"
    assert not before & (PSR_A | PSR_I) and rec["spsr"] == before
    assert rec["cpsr"] & 0x1F == MODE_ABT
    assert rec["cpsr"] & (PSR_A | PSR_I) == PSR_A | PSR_I


def test_data_abort_then_undefined_each_get_their_own_state():
    """The saved context the abort's fault is read from is reused: a later data abort must see
    its own DFAR, and an undefined instruction in between must not disturb it."""
    setup, tail = MMU["short"]
    body = setup + """
    ldr     r0, =0xBF001000
d1: ldr     r2, [r0]
    udf     #2
    ldr     r0, =0xCF002004
d2: str     r2, [r0]
    fadr    r1, vals
    adr     r0, d1
    str     r0, [r1]
    adr     r0, d2
    str     r0, [r1, #4]
"""
    vals, recs = run(body, tail=tail)
    d1, d2 = vals[:2]
    got = [(r["vector"], r["lr"], r["dfar"], _fault_status(r["dfsr"], "short"), bool(r["dfsr"] & FSR_WNR))
           for r in recs]
    assert got == [(VEC_DABT, d1 + 8, 0xBF001000, 0b00101, False),
                   (VEC_UND, d1 + 8, 0xBF001000, 0b00101, False),  # DFSR/DFAR as left
                   (VEC_DABT, d2 + 8, 0xCF002004, 0b00101, True)]


GICR_SGI = 0x080A0000 + 0x10000


def test_virtual_timer_interrupt_and_counter_a32():
    """CNTV_TVAL/CTL by MCR, CNTVCT/CNTV_CVAL by MRRC (rewritten to UDFs at load and emulated
    with Xen's vtimer): the PPI 27 arrives at VBAR + 0x18 through the vGIC; the counter read
    before and after the 2 ms wait advances. A CNTP_CVAL with a high word goes through
    MCRR/MRRC unchanged."""
    image = assemble_guest("a32", f"""
    adr     r0, vectors
    mcr     p15, 0, r0, c12, c0, 0  @ VBAR
    ldr     r9, ={GICR_SGI:#x}
    mov     r1, #0x08000000
    str     r1, [r9, #0x100]        @ GICR_ISENABLER0: PPI 27
    mov     r1, #0xff
    mcr     p15, 0, r1, c4, c6, 0   @ ICC_PMR
    mov     r1, #1
    mcr     p15, 0, r1, c12, c12, 7 @ ICC_IGRPEN1
    mov     r7, #1023
    mov     r8, #0
    mov     r6, #0
    ldr     r0, =0x23456789
    mov     r1, #1
    mcrr    p15, 2, r0, r1, c14     @ CNTP_CVAL = 0x1_23456789 (CNTP_CTL stays 0)
    mrrc    p15, 2, r2, r3, c14
    adr     r12, buf
    str     r2, [r12, #32]
    str     r3, [r12, #36]
    mrrc    p15, 1, r2, r3, c14     @ CNTVCT
    str     r2, [r12, #16]
    str     r3, [r12, #20]
    ldr     r1, =125000
    mcr     p15, 0, r1, c14, c3, 0  @ CNTV_TVAL
    mov     r1, #1
    mcr     p15, 0, r1, c14, c3, 1  @ CNTV_CTL: enabled
    mrrc    p15, 3, r2, r3, c14     @ CNTV_CVAL
    str     r2, [r12, #24]
    str     r3, [r12, #28]
    cpsie   i
    wfi
    cpsid   i
    mrrc    p15, 1, r2, r3, c14     @ CNTVCT again
    adr     r12, buf
    str     r2, [r12, #40]
    str     r3, [r12, #44]
    str     r7, [r12]
    str     r8, [r12, #4]
    str     r6, [r12, #8]
    adr     r2, buf
    mov     r0, #0
    mov     r1, #48
    xen_hypercall __HYPERVISOR_console_io
    shutdown 0
    .ltorg
    .balign 8
buf: .space 48
    .balign 32
vectors:
    .rept   6
    b       .                       @ nothing but the IRQ is expected
    .endr
    b       irq
    b       .
irq:
    mrc     p15, 0, r7, c12, c12, 0 @ ICC_IAR1
    mrc     p15, 0, r6, c14, c3, 1  @ CNTV_CTL
    add     r8, r8, #1
    mcr     p15, 0, r7, c12, c12, 1 @ ICC_EOIR1
    subs    pc, lr, #4
""")
    result = run_guest(image, timeout=20)
    assert result.exit_code == 0, result.stop.describe()
    w = struct.unpack("<12I", result.console[:48])
    intid, taken, ctl = w[0], w[1], w[2]
    vct1, cval, pcval, vct2 = (w[4] | w[5] << 32, w[6] | w[7] << 32, w[8] | w[9] << 32, w[10] | w[11] << 32)
    assert (intid, taken) == (27, 1)
    assert ctl == 0b111  # ENABLE | IMASK | ISTATUS: masked by Xen when injected
    assert pcval == 0x1_23456789
    assert 0 < vct1 < 62_500_000 * 5  # Xen time since the domain was built, low word in Rt
    assert vct1 + 125_000 <= cval <= vct1 + 125_000 + 62_500_000
    assert vct2 >= cval > vct1, "CNTVCT must advance past the deadline"
    assert any(r.text().startswith("IRQ 27") for r in result.trace)


@pytest.mark.parametrize("isa", ["a32", "t32"])
def test_no_vectors_svc_stops_the_run(isa):
    """MMU off and VBAR + 0x08 outside RAM: the run stops with exit 30 and names the SVC, at the
    PC the CPU left (past the SVC)."""
    image = assemble_guest(isa, """
    mov     r0, #0
    mcr     p15, 0, r0, c12, c0, 0  @ VBAR = 0: no RAM there
    isb
the_svc:
    svc     #0
    shutdown 0
""")
    result = run_guest(image)
    assert result.stop.kind == StopKind.GUEST_EXCEPTION
    assert result.exit_code == ExitCode.GUEST_EXCEPTION == 30
    word = b"\x00\x00\x00\xef" if isa == "a32" else b"\x00\xdf"
    svc = image.index(word, 0x34)  # the first SVC after the zImage header
    assert svc % len(word) == 0
    after = svc + len(word)
    assert result.stop.detail == f"guest took an unhandled supervisor call (SVC) at {result.entry + after:#x}"


def test_no_vectors_udf_stops_the_run():
    result = run_guest(assemble_guest("a32", """
    mov     r0, #0
    mcr     p15, 0, r0, c12, c0, 0
    isb
    udf     #1
    shutdown 0
"""))
    assert result.stop.kind == StopKind.GUEST_EXCEPTION and result.exit_code == 30
    # the zImage header is 0x34 bytes, then mov, mcr, isb
    assert result.stop.detail.endswith(f"at {result.entry + 0x34 + 12:#x}"), result.stop.detail
