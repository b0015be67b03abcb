"""The generic timer for A64 guests: Xen's view of the counter and the virtual/physical timers
(hypervisor/vtimer.py), the timer accesses rewritten at load (Unicorn's own CNTV_* registers
do not work), and the timer PPIs delivered through the vGIC at the delivery points: after an
HVC or a timer access, and at WFI, which idles until the next deadline."""
import struct

import pytest

from xenhvc import RunConfig, StopKind
from xenhvc.cpu.aarch64 import Cpu
from xenhvc.cpu.sysreg import decode_a64, timer_udf
from xenhvc.hypervisor.vtimer import CTL_ENABLE, CTL_IMASK, CTL_ISTATUS, VTimers
from xenhvc.testing import assemble_guest, run_guest

GICR_SGI = 0x080A0000 + 0x10000
MRS_CNTVCT_X3 = 0xD53BE043  # mrs x3, cntvct_el0
MSR_CNTV_CVAL_X4 = 0xD51BE344  # msr cntv_cval_el0, x4


def test_timer_accesses_become_udfs_that_decode_back():
    for insn, name, read, rt in ((MRS_CNTVCT_X3, "CNTVCT", True, 3), (MSR_CNTV_CVAL_X4, "CNTV_CVAL", False, 4),
                                 (0xD53BE22A, "CNTP_CTL", True, 10)):
        udf = timer_udf(insn)
        assert udf is not None and udf >> 16 == 0  # UDF #imm16
        access = decode_a64(udf)
        assert (access.name, access.read, access.rt) == (name, read, rt)
    assert timer_udf(0xD53BE000) is None  # mrs x0, cntfrq_el0 stays native
    assert timer_udf(0xD5384100) is None  # mrs x0, sp_el0


def test_patch_code_rewrites_aligned_words_only():
    data = struct.pack("<4I", MRS_CNTVCT_X3, 0xD503201F, MSR_CNTV_CVAL_X4, 0) + b"\x00" + struct.pack("<I", MRS_CNTVCT_X3)
    out = bytearray(data)
    n = Cpu.patch_code(0x40080000, out)
    assert n == 2
    words = struct.unpack("<4I", out[:16])
    assert words[0] == timer_udf(MRS_CNTVCT_X3) and words[2] == timer_udf(MSR_CNTV_CVAL_X4)
    assert out[16:] == data[16:]  # the unaligned copy is data


class Clock:
    def __init__(self):
        self.ns = 0

    def __call__(self):
        return self.ns


def test_vtimers_model():
    clock = Clock()
    t = VTimers(clock)
    clock.ns = 1600
    assert t.read("CNTVCT") == 100 and t.read("CNTFRQ") == 62_500_000
    t.write("CNTV_TVAL", 50)
    assert t.read("CNTV_CVAL") == 150 and t.deadline_ns is None  # not enabled
    t.write("CNTV_CTL", CTL_ENABLE)
    assert t.deadline_ns == 150 * 16 and not t.due()
    assert t.read("CNTV_CTL") == CTL_ENABLE
    clock.ns = 150 * 16
    assert t.due() and t.run()
    assert t.raised == [27]
    # Xen's vtimer_interrupt masks the hardware timer as it injects
    assert t.read("CNTV_CTL") == CTL_ENABLE | CTL_IMASK | CTL_ISTATUS
    assert t.deadline_ns is None and not t.run()
    t.write("CNTV_TVAL", 0xFFFFFFFF)  # -1: already passed
    t.write("CNTV_CTL", CTL_ENABLE)
    assert t.run() and t.raised == [27, 27]
    t.write("CNTP_CVAL", 10)
    t.write("CNTP_CTL", CTL_ENABLE)
    assert t.run() and t.raised[-1] == 30
    assert t.read("CNTP_CTL") == CTL_ENABLE | CTL_ISTATUS  # emulated: not masked by Xen


def _print_regs(n: int) -> str:
    return f"""
    adr     x9, buf
    {chr(10).join(f"    str x{20 + i}, [x9, #{8 * i}]" for i in range(n))}
    mov     x0, #0
    mov     x1, #{8 * n}
    adr     x2, buf
    xen_hypercall __HYPERVISOR_console_io
    shutdown 0
"""


def _values(result, n: int):
    assert result.exit_code == 0, result.stop.describe()
    return struct.unpack(f"<{n}Q", result.console)


def test_guest_reads_frequency_and_a_counter_that_starts_at_domain_build():
    image = assemble_guest("a64", f"""
    mrs     x20, cntfrq_el0
    mrs     x21, cntvct_el0
    mrs     x22, cntpct_el0
    mov     x1, #5
    msr     cntv_cval_el0, x1
    mov     x1, #3
    msr     cntv_ctl_el0, x1        // enabled and masked: reads back (Unicorn's own reads 0)
    mrs     x23, cntv_ctl_el0
    mrs     x24, cntv_cval_el0
    {_print_regs(5)}
    .ltorg
    .balign 8
buf: .space 64
""")
    frq, vct, pct, ctl, cval = _values(run_guest(image), 5)
    assert frq == 62_500_000
    assert 0 < vct < 62_500_000 * 5  # Xen time since the domain was built, not host uptime
    assert pct >= vct
    assert ctl == CTL_ENABLE | CTL_IMASK | CTL_ISTATUS and cval == 5


# vectors: the IRQ entry acknowledges, records INTID and CNTV_CTL, counts, EOIs and returns
SETUP = f"""
    adr     x0, vectors
    msr     vbar_el1, x0
    ldr     x9, ={GICR_SGI:#x}
    mov     w1, #0x08000000
    str     w1, [x9, #0x100]        // GICR_ISENABLER0: PPI 27
    mov     x1, #0xff
    msr     S3_0_C4_C6_0, x1        // ICC_PMR_EL1
    mov     x1, #1
    msr     S3_0_C12_C12_7, x1      // ICC_IGRPEN1_EL1
    mov     x20, #1023
    mov     x21, #0
    mov     x22, #0
"""
VECTORS = """
    .ltorg
    .balign 8
buf: .space 64
    .balign 2048
vectors:
    .space  0x280
    mrs     x20, S3_0_C12_C12_0     // ICC_IAR1_EL1
    mrs     x22, cntv_ctl_el0
    add     x21, x21, #1
    msr     S3_0_C12_C12_1, x20     // ICC_EOIR1_EL1
    eret
"""


@pytest.mark.parametrize("wait", ["wfi", "spin"])
def test_virtual_timer_interrupt_reaches_the_irq_vector(wait):
    # a 2 ms timer; WFI idles to the deadline, a guest polling the counter takes it at the first
    # read past it
    loop = "wfi" if wait == "wfi" else "1: mrs x25, cntvct_el0\n    cbz x21, 1b"
    image = assemble_guest("a64", SETUP + f"""
    ldr     x1, =125000
    msr     cntv_tval_el0, x1
    mov     x1, #1
    msr     cntv_ctl_el0, x1
    mrs     x23, cntv_cval_el0
    msr     daifclr, #2
    {loop}
    msr     daifset, #2
    mrs     x24, cntvct_el0
    {_print_regs(5)}
""" + VECTORS)
    result = run_guest(image)
    intid, taken, ctl, cval, after = _values(result, 5)
    assert (intid, taken) == (27, 1)
    assert ctl == CTL_ENABLE | CTL_IMASK | CTL_ISTATUS  # masked by Xen when injected
    assert after >= cval
    assert any(r.text().startswith("IRQ 27") for r in result.trace)
    if wait == "spin":  # the reads before the deadline were native; the one past it, the model's
        assert result.native_counter_reads > 100


COUNTER_LOOP = """
    mov     x9, #2000
    mov     x20, #0                 // the last count
    mov     x21, #0                 // reads that went backwards
1:  mrs     x1, cntvct_el0          // native
    mrs     x3, cntv_tval_el0       // the model's: CVAL (0) - count
    neg     w3, w3                  // the model's count (its low 32 bits: it is small)
    mrs     x2, cntpct_el0          // native
    cmp     x1, x20
    cinc    x21, x21, lo
    cmp     x3, x1
    cinc    x21, x21, lo
    cmp     x2, x3
    cinc    x21, x21, lo
    mov     x20, x2
    mov     x0, #0
    mov     x1, #0
    mov     x16, #17                // a hypercall between reads: Python, at its own time
    hvc     #0xea1
    subs    x9, x9, #1
    bne     1b
    mov     x22, #0
    mov     x23, #0
    mov     x24, #0
"""
BUF = """
    .ltorg
    .balign 8
buf: .space 64
"""


def test_counter_reads_are_answered_natively_and_never_go_back():
    image = assemble_guest("a64", COUNTER_LOOP + _print_regs(5) + BUF)
    result = run_guest(image, RunConfig(timeout=20))
    last, backwards, *_ = _values(result, 5)
    assert backwards == 0 and 0 < last < 62_500_000 * 20
    assert result.native_counter_reads == 4000


def test_deterministic_counter_reads_stay_with_the_model():
    # the instruction clock is the model's: no native answers, and the same counts every run
    image = assemble_guest("a64", COUNTER_LOOP + _print_regs(5) + BUF)
    runs = [run_guest(image, RunConfig(timeout=20, deterministic=True)) for _ in range(2)]
    assert runs[0].native_counter_reads == 0 and runs[0].console == runs[1].console
    assert _values(runs[0], 5)[1] == 0


def test_wfi_with_masked_irqs_wakes_and_takes_the_irq_after_unmask():
    image = assemble_guest("a64", SETUP + f"""
    mov     x1, #100
    msr     cntv_tval_el0, x1
    mov     x1, #1
    msr     cntv_ctl_el0, x1
    wfi                             // IRQs masked: wakes, the IRQ stays pending
    mov     x25, x21
    msr     daifclr, #2
    nop
    mov     x23, x25
    mov     x24, #0
    {_print_regs(5)}
""" + VECTORS)
    intid, taken, _, seen_before_unmask, _ = _values(run_guest(image), 5)
    assert (intid, taken, seen_before_unmask) == (27, 1, 0)


def test_wfi_without_a_timer_still_stops_as_idle():
    image = assemble_guest("a64", SETUP + """
    mov     x1, #100
    msr     cntv_tval_el0, x1
    mov     x1, #3                  // enabled but masked: cannot fire
    msr     cntv_ctl_el0, x1
    msr     daifclr, #2
    wfi
    b       .
""" + VECTORS)
    result = run_guest(image)
    assert result.stop.kind == StopKind.IDLE
