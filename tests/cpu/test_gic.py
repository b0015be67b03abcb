"""The vGIC's state machine, its MMIO registers, and the decoding of ICC_* accesses."""
import pytest

from xenhvc.cpu import gic as g
from xenhvc.cpu.gic import VGic
from xenhvc.cpu.sysreg import SysregAccess, decode_a32, decode_a64, decode_t32, timer_udf_a32

SGI = g.GICR_FRAME


def ready(intid=16, prio=0xA0) -> VGic:
    v = VGic()
    v.gicr_write(SGI + g.GICR_IPRIORITYR0 + intid, 1, prio)
    v.gicr_write(SGI + g.GICR_ISENABLER0, 4, 1 << intid)
    v.sysreg_write("ICC_PMR", 0xFF)
    v.sysreg_write("ICC_IGRPEN1", 1)
    return v


def test_inject_ack_eoi():
    v = ready()
    assert not v.can_signal()
    v.inject(16)
    assert v.can_signal() and v.inflight(16)
    assert v.sysreg_read("ICC_HPPIR1") == 16
    assert v.sysreg_read("ICC_IAR1") == 16
    assert v.sysreg_read("ICC_RPR") == 0xA0 and not v.can_signal()
    assert v.sysreg_read("ICC_IAR1") == g.SPURIOUS
    v.sysreg_write("ICC_EOIR1", 16)
    assert not v.inflight(16) and v.sysreg_read("ICC_RPR") == 0xFF


def test_edge_while_active_is_signalled_after_eoi():
    v = ready()
    v.inject(16)
    assert v.acknowledge() == 16
    v.inject(16)  # pending and active
    assert not v.can_signal()
    v.end_of_interrupt(16)
    assert v.can_signal() and v.acknowledge() == 16


@pytest.mark.parametrize("change", ["disabled", "pmr", "group", "higher_active"])
def test_what_stops_signalling(change):
    v = ready()
    v.inject(16)
    if change == "disabled":
        v.gicr_write(SGI + g.GICR_ICENABLER0, 4, 1 << 16)
    elif change == "pmr":
        v.sysreg_write("ICC_PMR", 0xA0)  # priority must be strictly below the mask
    elif change == "group":
        v.sysreg_write("ICC_IGRPEN1", 0)
    else:
        v.gicr_write(SGI + g.GICR_IPRIORITYR0 + 17, 1, 0x10)
        v.gicr_write(SGI + g.GICR_ISENABLER0, 4, 1 << 17)
        v.inject(17)
        assert v.acknowledge() == 17  # the higher priority first
    assert not v.can_signal()


def test_eoimode_splits_drop_and_deactivate():
    v = ready()
    v.sysreg_write("ICC_CTLR", g.ICC_CTLR_EOIMODE)
    v.inject(16)
    v.acknowledge()
    v.sysreg_write("ICC_EOIR1", 16)
    assert v.sysreg_read("ICC_RPR") == 0xFF and v.inflight(16)
    v.sysreg_write("ICC_DIR", 16)
    assert not v.inflight(16)


def test_pending_while_disabled_is_kept():
    v = ready()
    v.gicr_write(SGI + g.GICR_ICENABLER0, 4, 1 << 16)
    v.inject(16)
    assert not v.can_signal() and v.inflight(16)
    v.gicr_write(SGI + g.GICR_ISENABLER0, 4, 1 << 16)
    assert v.can_signal()


def test_registers_as_xen_shows_them():
    v = ready()
    assert v.gicd_read(g.GICD_IIDR, 4) == 0x34C and v.gicr_read(g.GICR_IIDR, 4) == 0x34C
    assert v.gicd_read(g.GICD_PIDR2, 4) == 0x30 and v.gicr_read(g.GICR_PIDR2, 4) == 0x30
    assert v.gicd_read(g.GICD_CTLR, 4) == g.GICD_CTLR_ARE_NS
    v.gicd_write(g.GICD_CTLR, 4, 0xFF)
    assert v.gicd_read(g.GICD_CTLR, 4) == g.GICD_CTLR_ARE_NS | g.GICD_CTLR_ENABLE_G1A
    assert v.gicd_read(g.GICD_TYPER, 4) == 7 | 15 << 19  # 224 SPIs, as Linux under real Xen reports
    assert v.gicr_read(g.GICR_TYPER, 8) == g.GICR_TYPER_LAST and v.gicr_read(g.GICR_TYPER + 4, 4) == 0
    assert v.gicr_read(g.GICR_WAKER, 4) == 0
    v.gicr_write(SGI + g.GICR_IGROUPR0, 4, 0xFFFFFFFF)
    assert v.gicr_read(SGI + g.GICR_IGROUPR0, 4) == 0
    assert v.gicr_read(SGI + g.GICR_ISENABLER0, 4) == v.gicr_read(SGI + g.GICR_ICENABLER0, 4) == 1 << 16
    assert v.gicr_read(SGI + g.GICR_IPRIORITYR0 + 16, 4) == 0xA0
    v.gicr_write(SGI + g.GICR_IPRIORITYR0 + 4, 4, 0x11223344)
    assert v.gicr_read(SGI + g.GICR_IPRIORITYR0 + 6, 1) == 0x22
    v.gicr_write(SGI + g.GICR_ISPENDR0, 4, 1 << 16)
    assert v.inflight(16) and v.gicr_read(SGI + g.GICR_ISPENDR0, 4) == 0  # RAZ, as on Xen
    v.gicr_write(SGI + g.GICR_ICPENDR0, 4, 1 << 16)
    assert v.inflight(16)  # a pending virtual interrupt cannot be withdrawn on Xen
    assert v.gicd_read(0x1234, 4) == 0 and v.gicr_read(SGI + 0x2000, 4) == 0
    v.sysreg_write("ICC_PMR", 0xFF)
    assert v.sysreg_read("ICC_PMR") == 0xF8 and v.sysreg_read("ICC_SRE") == 7


def test_decode_a64():
    # mrs x2, ICC_IAR1_EL1 ; msr ICC_PMR_EL1, x1 ; msr ICC_EOIR1_EL1, xzr ; mrs x0, midr_el1
    assert decode_a64(0xD538CC02) == SysregAccess("ICC_IAR1", True, 2)
    assert decode_a64(0xD5184601) == SysregAccess("ICC_PMR", False, 1)
    assert decode_a64(0xD518CC3F) == SysregAccess("ICC_EOIR1", False, 31)
    assert decode_a64(0xD5380000) is None
    assert decode_a64(0xD503207F) is None  # wfi


def test_decode_a32_t32():
    # mrc p15, 0, r2, c12, c12, 0 ; mcr p15, 0, r1, c4, c6, 0 ; mrc p15, 0, r0, c1, c0, 0 (SCTLR)
    assert decode_a32(0xEE1C2F1C) == SysregAccess("ICC_IAR1", True, 2)
    assert decode_a32(0xEE041F16) == SysregAccess("ICC_PMR", False, 1)
    assert decode_a32(0x0E041F16).name == "ICC_PMR"  # any condition
    assert decode_a32(0xEE110F10) is None
    assert decode_a32(0xEE1CFF1C) is None  # to APSR_nzcv
    assert decode_t32(0xEE1C, 0x2F1C).name == "ICC_IAR1"
    assert decode_t32(0xEE0C, 0x0F3C) == SysregAccess("ICC_EOIR1", False, 0)
    assert decode_t32(0xBF30, 0x0000) is None


def test_a32_timer_accesses_become_udfs_that_decode_back():
    # mrrc p15, 1, r2, r3, c14 (CNTVCT) ; mcrr p15, 3, r0, r1, c14 (CNTV_CVAL) ;
    # mcr p15, 0, r4, c14, c3, 1 (CNTV_CTL) ; mrc p15, 0, r5, c14, c3, 0 (CNTV_TVAL)
    cases = {0xEC532F1E: SysregAccess("CNTVCT", True, 2, 3), 0xEC410F3E: SysregAccess("CNTV_CVAL", False, 0, 1),
             0xEE0E4F33: SysregAccess("CNTV_CTL", False, 4), 0xEE1E5F13: SysregAccess("CNTV_TVAL", True, 5)}
    for insn, access in cases.items():
        udf = timer_udf_a32(insn)
        assert udf is not None and udf & 0xFFF000F0 == 0xE7F000F0, hex(insn)
        assert decode_a32(udf) == access
    assert timer_udf_a32(0xEE1E0F10) is None  # mrc CNTFRQ: native
    assert timer_udf_a32(0x0C532F1E) is None  # conditional: not rewritten
    assert decode_a32(0xE7F000F0) is None  # udf #0: not ours


def test_xen_logs_reserved_reads_and_icactiver_writes_as_it_does():
    lines = []
    v = g.VGic(log=lines.append, vcpu="d0v0")
    assert v.gicd_read(0x000C, 4) == 0 and v.gicd_read(0x0F30, 4) == 0
    v.gicd_read(g.GICD_TYPER, 4)  # a real register: no message
    v.gicd_write(0x0384, 4, 0xFFFFFFFF)
    v.gicr_write(g.GICR_FRAME + g.GICR_ICACTIVER0, 4, 0xFFFFFFFF)
    assert lines == ["d0v0: vGICD: RAZ on reserved register offset 0x00000c",
                     "d0v0: vGICD: RAZ on reserved register offset 0x000f30",
                     "d0v0: vGICD: unhandled word write 0x000000ffffffff to ICACTIVER4",
                     "d0v0: vGICR: SGI: unhandled word write 0x000000ffffffff to ICACTIVER0"]
