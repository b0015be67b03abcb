"""Guest-level interrupt delivery: a sent event reaches the guest's IRQ vector through the vGIC,
with ICC_* accesses emulated, at the delivery points (after the HVC, at the unmask, WFI)."""
import struct

import pytest

from xenhvc import StopKind
from xenhvc.testing import assemble_guest, run_guest

GICR_SGI = 0x080A0000 + 0x10000

# bind_ipi, then {before_send}, send; the vector counts IRQs in x21 and keeps the INTID in x20.
A64 = f"""
    adr     x0, vectors
    msr     vbar_el1, x0
    ldr     x9, ={GICR_SGI:#x}
    mov     w1, #0xa0
    strb    w1, [x9, #0x410]        // GICR_IPRIORITYR4 byte 0: PPI 16
    mov     w1, #0x10000
    str     w1, [x9, #0x100]        // GICR_ISENABLER0
    mov     x1, #0xff
    msr     S3_0_C4_C6_0, x1        // ICC_PMR_EL1
    mov     x1, #1
    msr     S3_0_C12_C12_7, x1      // ICC_IGRPEN1_EL1
    mov     x20, #0
    mov     x21, #0
    adr     x1, buf
    str     xzr, [x1]
    mov     x0, #7                  // EVTCHNOP_bind_ipi
    xen_hypercall __HYPERVISOR_event_channel_op
    adr     x1, buf
    ldr     w2, [x1, #4]
    str     w2, [x1]
    {{before_send}}
    mov     x0, #4                  // EVTCHNOP_send
    adr     x1, buf
    xen_hypercall __HYPERVISOR_event_channel_op
    mov     x22, x21                // IRQs seen right after the HVC
    {{after_send}}
    adr     x2, buf
    stp     x20, x21, [x2]
    str     x22, [x2, #16]
    mov     x0, #0
    mov     x1, #24
    xen_hypercall __HYPERVISOR_console_io
    shutdown 0
    .ltorg
    .balign 8
buf: .space 32
    .balign 2048
vectors:
    .space  0x280
    mrs     x20, S3_0_C12_C12_0     // ICC_IAR1_EL1
    msr     S3_0_C12_C12_1, x20     // ICC_EOIR1_EL1
    add     x21, x21, #1
    eret
"""

# A32 and T32 (the guest starts in Thumb state for t32); the vectors are ARM code (SCTLR.TE = 0)
A32 = f"""
    adr     r0, vectors
    mcr     p15, 0, r0, c12, c0, 0  @ VBAR
    ldr     r9, ={GICR_SGI:#x}
    mov     r1, #0xa0
    strb    r1, [r9, #0x410]
    mov     r1, #0x10000
    str     r1, [r9, #0x100]
    mov     r1, #0xff
    mcr     p15, 0, r1, c4, c6, 0   @ ICC_PMR
    mov     r1, #1
    mcr     p15, 0, r1, c12, c12, 7 @ ICC_IGRPEN1
    mov     r7, #0
    mov     r8, #0
    adr     r1, buf
    mov     r0, #0
    str     r0, [r1]
    mov     r0, #7
    xen_hypercall __HYPERVISOR_event_channel_op
    adr     r1, buf
    ldr     r2, [r1, #4]
    str     r2, [r1]
    {{before_send}}
    mov     r0, #4
    adr     r1, buf
    xen_hypercall __HYPERVISOR_event_channel_op
    mov     r6, r8
    {{after_send}}
    adr     r2, buf
    str     r7, [r2]
    str     r8, [r2, #4]
    str     r6, [r2, #8]
    mov     r0, #0
    mov     r1, #12
    xen_hypercall __HYPERVISOR_console_io
    shutdown 0
    .ltorg
    .balign 8
buf: .space 32
    .arm
    .balign 32
vectors:
    .space  0x18
    b       irq
irq:
    mrc     p15, 0, r7, c12, c12, 0 @ ICC_IAR1
    mcr     p15, 0, r7, c12, c12, 1 @ ICC_EOIR1
    add     r8, r8, #1
    subs    pc, lr, #4
"""

UNMASK = {"a64": "msr daifclr, #2", "a32": "cpsie i", "t32": "cpsie i"}
MASK = {"a64": "msr daifset, #2", "a32": "cpsid i", "t32": "cpsid i"}


def run(isa: str, before_send: str = "", after_send: str = ""):
    if isa == "a64":
        src = A64.replace("{before_send}", before_send).replace("{after_send}", after_send)
        fmt, n = "<QQQ", 24
    else:
        src = A32.replace("{before_send}", before_send).replace("{after_send}", after_send)
        fmt, n = "<III", 12
    result = run_guest(assemble_guest(isa, src), timeout=20)
    assert result.stop.kind == StopKind.SHUTDOWN, result.stop
    return struct.unpack(fmt, result.console[:n])  # intid, irqs, irqs right after the send


@pytest.mark.parametrize("isa", ["a64", "a32", "t32"])
def test_irq_right_after_the_hypercall(isa):
    assert run(isa, before_send=UNMASK[isa]) == (16, 1, 1)


@pytest.mark.parametrize("isa", ["a64", "a32", "t32"])
def test_masked_then_taken_at_the_unmask(isa):
    assert run(isa, after_send=f"{UNMASK[isa]}\n    nop\n    {MASK[isa]}") == (16, 1, 0)


@pytest.mark.parametrize("isa", ["a64", "a32", "t32"])
def test_masked_stays_pending(isa):
    assert run(isa) == (0, 0, 0)


BLOCK = {"a64": "mov x0, #1\n    mov x1, #0\n    xen_hypercall __HYPERVISOR_sched_op",
         "a32": "mov r0, #1\n    mov r1, #0\n    xen_hypercall __HYPERVISOR_sched_op"}
BLOCK["t32"] = BLOCK["a32"]


@pytest.mark.parametrize("isa", ["a64", "a32", "t32"])
def test_block_unmasks_and_takes_the_pending_irq(isa):
    # SCHEDOP_block clears PSTATE.I/CPSR.I, does not block (an interrupt needs delivery), and the
    # IRQ is taken as it returns
    assert run(isa, after_send=BLOCK[isa]) == (16, 1, 0)


@pytest.mark.parametrize("isa", ["a64", "a32", "t32"])
def test_wfi_with_a_pending_irq_returns(isa):
    assert run(isa, after_send=f"wfi\n    {UNMASK[isa]}\n    nop") == (16, 1, 0)


@pytest.mark.parametrize("isa", ["a64", "a32", "t32"])
def test_wfi_with_nothing_to_wake_it_is_idle(isa):
    result = run_guest(assemble_guest(isa, "wfi\n    b .\n"), timeout=20)
    assert result.stop.kind == StopKind.IDLE and "WFI" in result.stop.detail


def test_undefined_instruction_still_stops():
    result = run_guest(assemble_guest("a64", "mrs x0, S3_0_C12_C8_4\n    .word 0\n"), timeout=20)
    assert result.stop.kind == StopKind.GUEST_EXCEPTION  # ICC_AP0R0 reads as zero, then udf


def test_trace_shows_the_irq():
    src = A64.replace("{before_send}", UNMASK["a64"]).replace("{after_send}", "")
    result = run_guest(assemble_guest("a64", src), timeout=20, trace=True)
    texts = [r.text() for r in result.trace]
    send = next(i for i, t in enumerate(texts) if t.startswith("event_channel_op(EVTCHNOP_send"))
    assert texts[send + 1] == "IRQ 16: taken in the guest's IRQ vector"
    assert result.trace[send + 1].pc == result.trace[send].pc + 4  # returns after the HVC


def _taken(result):
    return [r for r in result.trace if r.text().startswith("IRQ ")]


#: from the send's HVC to the instruction after the unmask: the HVC, `mov x22, x21` / `mov r6, r8`
#: (2 bytes in Thumb), the unmask (2 bytes in Thumb)
AFTER_UNMASK = {"a64": 12, "a32": 12, "t32": 8}


@pytest.mark.parametrize("isa", ["a64", "a32", "t32"])
def test_trace_shows_the_irq_the_cpu_took_at_the_unmask(isa):
    # masked at the send: the line is raised, and the CPU takes the IRQ right after the unmask,
    # interrupting the instruction after it
    src = (A64 if isa == "a64" else A32).replace("{before_send}", "").replace(
        "{after_send}", f"{UNMASK[isa]}\n    nop\n    {MASK[isa]}")
    result = run_guest(assemble_guest(isa, src), timeout=20)
    assert result.stop.kind == StopKind.SHUTDOWN, result.stop
    send = next(r for r in result.trace if r.text().startswith("event_channel_op(EVTCHNOP_send"))
    (record,) = _taken(result)
    assert record.text() == "IRQ 16: taken in the guest's IRQ vector"
    assert record.pc == send.pc + AFTER_UNMASK[isa]


GICR_ICENABLER0 = 0x180


@pytest.mark.parametrize("isa", ["a64", "a32", "t32"])
def test_a_gic_write_that_disables_the_pending_irq_lowers_the_line(isa):
    disable = (f"ldr x9, ={GICR_SGI:#x}\n    mov w1, #0x10000\n    str w1, [x9, #{GICR_ICENABLER0:#x}]" if isa == "a64"
               else f"ldr r9, ={GICR_SGI:#x}\n    mov r1, #0x10000\n    str r1, [r9, #{GICR_ICENABLER0:#x}]")
    assert run(isa, after_send=f"{disable}\n    {UNMASK[isa]}\n    nop\n    {MASK[isa]}") == (0, 0, 0)


def test_the_take_is_traced_at_vectors_moved_after_the_interrupt_was_raised():
    # the send raises the line with IRQs masked; the guest then moves VBAR_EL1 to a second
    # table and makes a hypercall (a point where the model looks again) before it unmasks
    move = """adr     x0, vectors2
    msr     vbar_el1, x0
    mov     x0, #0                  // XENVER_version
    mov     x1, #0
    xen_hypercall __HYPERVISOR_xen_version
    msr     daifclr, #2
    nop
    msr     daifset, #2"""
    src = A64.replace("{before_send}", "").replace("{after_send}", move) + """
    .balign 2048
vectors2:
    .space  0x280
    mrs     x20, S3_0_C12_C12_0
    msr     S3_0_C12_C12_1, x20
    add     x21, x21, #100
    eret
"""
    result = run_guest(assemble_guest("a64", src), timeout=20)
    assert result.stop.kind == StopKind.SHUTDOWN, result.stop
    assert struct.unpack("<QQQ", result.console[:24]) == (16, 100, 0)  # taken at the new table
    assert [r.text() for r in _taken(result)] == ["IRQ 16: taken in the guest's IRQ vector"]
