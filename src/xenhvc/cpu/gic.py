"""A minimal virtual GICv3 for one vCPU: what a guest needs to take a PPI, as Xen 4.17's vGIC
(the "old" vgic, xen/arch/arm/vgic.c + vgic-v3.c; Debian's build has CONFIG_NEW_VGIC unset)
shows it, with the CPU interface behaving as the GIC's virtual CPU interface (ICV_*, here QEMU's
hw/intc/arm_gicv3_cpuif.c with 5 virtual priority bits) does for a guest under Xen.

Covered (everything else reads as zero and ignores writes):

- Distributor (GICD, 64 KiB): GICD_CTLR (ARE_NS fixed, EnableGrp1A stored; Xen never gates
  delivery on it), GICD_TYPER, GICD_IIDR (0x34c), GICD_PIDR2 (0x30). No SPIs are modelled.
- Redistributor RD frame: GICR_CTLR (RAZ, no ITS), GICR_IIDR, GICR_TYPER (Last, processor 0,
  affinity 0), GICR_WAKER (RAZ/WI as on Xen: nothing to wake), GICR_PIDR2.
- Redistributor SGI frame: GICR_IGROUPR0 (RAZ/WI: every interrupt is group 1, as Xen's list
  registers make it), GICR_ISENABLER0/ICENABLER0, GICR_ISPENDR0 (write sets pending, reads as
  zero as on Xen), GICR_ICPENDR0 (RAZ/WI as on Xen: a pending virtual interrupt cannot be
  withdrawn), GICR_ISACTIVER0/ICACTIVER0 (RAZ/WI; Xen injects a data abort for an ISACTIVER0
  write, which the model does not), GICR_IPRIORITYR0-7 (byte and word, all 8 bits kept as Xen
  keeps them; compared with the 5 implemented bits), GICR_ICFGR0 (RAZ/WI) and GICR_ICFGR1.
- CPU interface: ICC_IAR1, ICC_EOIR1, ICC_HPPIR1, ICC_DIR, ICC_RPR, ICC_PMR (5 bits: 0xFF
  reads 0xF8), ICC_BPR1, ICC_CTLR (EOImode and CBPR stored), ICC_SRE (0x7, writes ignored),
  ICC_IGRPEN1; group 0 (IAR0 answers 1023), the active-priority registers and the SGI
  generation registers read as zero / ignore writes: SGIs are not modelled.

Interrupts are pending/active latches: ``inject`` sets pending (an edge, as Xen's vgic_inject_irq
for the event-channel PPI on each 0 -> 1 of evtchn_upcall_pending), IAR makes the interrupt active
and clears pending, EOIR drops the running priority and (EOImode 0) deactivates it. An interrupt
injected again while active is pending and active, and is signalled again after the EOI."""
from __future__ import annotations

GICD_SIZE = 0x10000
GICR_FRAME = 0x10000
GICR_SIZE = 2 * GICR_FRAME  # RD_base and SGI_base of the one redistributor
SPURIOUS = 1023
PRI_BITS_MASK = 0xF8  # 5 virtual priority bits (ICH_VTR_EL2.PRIbits + 1 on the oracle)
IDLE_PRIORITY = 0xFF

# GICD
GICD_CTLR, GICD_TYPER, GICD_IIDR, GICD_PIDR2 = 0x0000, 0x0004, 0x0008, 0xFFE8
GICD_CTLR_ENABLE_G1A, GICD_CTLR_ARE_NS = 1 << 1, 1 << 4
GICV3_IIDR_VAL = 0x34C  # GICV3_GICD_IIDR_VAL / GICV3_GICR_IIDR_VAL
GICV3_PIDR2 = 0x30
# GICR RD frame
GICR_CTLR, GICR_IIDR, GICR_TYPER, GICR_WAKER, GICR_PIDR2 = 0x0000, 0x0004, 0x0008, 0x0014, 0xFFE8
GICR_TYPER_LAST = 1 << 4
#: GICD_ICACTIVER<n>: Xen logs writes to it and ignores them (vgic-v3.c)
GICD_ICACTIVER, GICD_ICACTIVERN = 0x0380, 0x03FC
#: GICD word offsets Xen reads as zero with a "RAZ on reserved register" message (vgic-v3.c,
#: vgic_v3_distr_mmio_read): 0x000C, 0x0014-0x001C, 0x0040-0x007C, 0x0F30-0x60FC, 0x7FE0-0xBFFC
GICD_RESERVED_READS = ((0x000C, 0x000C), (0x0014, 0x001C), (0x0040, 0x007C), (0x0F30, 0x60FC), (0x7FE0, 0xBFFC))
# GICR SGI frame (offsets from SGI_base)
GICR_IGROUPR0, GICR_ISENABLER0, GICR_ICENABLER0 = 0x0080, 0x0100, 0x0180
GICR_ISPENDR0, GICR_ICPENDR0, GICR_ISACTIVER0, GICR_ICACTIVER0 = 0x0200, 0x0280, 0x0300, 0x0380
GICR_IPRIORITYR0, GICR_ICFGR0, GICR_ICFGR1 = 0x0400, 0x0C00, 0x0C04
# ICC_CTLR
ICC_CTLR_CBPR, ICC_CTLR_EOIMODE = 1 << 0, 1 << 1
ICC_CTLR_FIXED = (1 << 15) | (1 << 11) | (4 << 8)  # A3V, IDbits = 24 bits, PRIbits = 5 - 1 (QEMU's ICV)
ICC_SRE_VALUE = 0x7  # SRE, DFB, DIB: fixed
BPR1_MIN = 3  # the smallest ICV_BPR1 with 5 priority bits


class VGic:
    """The interrupt state of one vCPU's SGIs and PPIs (INTIDs 0..31) and its CPU interface."""

    #: Xen gives dom0 min(gic_number_lines(), 992) - 32 SPIs and a dom0less domU
    #: gic_number_lines() - 32 (domain_build.c): QEMU virt's GICv3 has 256 lines
    def __init__(self, *, nr_spis: int = 224, intid_bits: int = 16, log=None, vcpu: str = "d0v0"):
        self.pending = 0
        self.enabled = 0
        self.active = 0
        self.priority = bytearray(32)
        self.icfgr1 = 0
        self.gicd_ctlr = GICD_CTLR_ARE_NS
        self.gicd_typer = (nr_spis + 31) // 32 | (intid_bits - 1) << 19  # one CPU (CPUNumber 0)
        #: Xen's log (the messages its vGIC prints for reserved and unhandled accesses), and the
        #: vCPU as Xen's %pv prints it
        self.log = log or (lambda line: None)
        self.vcpu = vcpu
        self.pmr = 0
        self.bpr1 = BPR1_MIN
        self.icc_ctlr = 0  # EOImode, CBPR
        self.igrpen1 = 0
        #: group priorities of the interrupts acknowledged and not yet EOI'd (priority drop)
        self.active_priorities: list[int] = []

    # -- interrupt state ----------------------------------------------------------------------------
    def inject(self, intid: int) -> None:
        self.pending |= 1 << intid

    def inflight(self, intid: int) -> bool:
        """Xen's pending_irq.inflight: queued or in a list register (pending or active)."""
        return bool((self.pending | self.active) >> intid & 1)

    def _group_priority(self, prio: int) -> int:
        return prio & PRI_BITS_MASK & (0xFF << self.bpr1) & 0xFF

    def running_priority(self) -> int:
        return min(self.active_priorities, default=IDLE_PRIORITY)

    def hppi(self) -> int | None:
        """The highest-priority pending, enabled, inactive interrupt (lowest INTID on a tie)."""
        cand = self.pending & self.enabled & ~self.active
        if not cand:
            return None
        best, best_prio = None, 0x100
        for intid in range(32):
            if cand >> intid & 1:
                prio = self.priority[intid] & PRI_BITS_MASK
                if prio < best_prio:
                    best, best_prio = intid, prio
        return best

    def _preempts(self, intid: int) -> bool:
        prio = self.priority[intid] & PRI_BITS_MASK
        return prio < self.pmr and self._group_priority(prio) < self.running_priority()

    def can_signal(self) -> bool:
        """Whether the CPU interface asserts the virtual IRQ (vIRQ) to the vCPU now."""
        if not self.pending & self.enabled & ~self.active or not self.igrpen1:
            return False
        intid = self.hppi()
        return intid is not None and self._preempts(intid)

    def vcpu_pending_irq(self) -> bool:
        """Xen's vgic_vcpu_pending_irq: an enabled inflight interrupt above the priority mask and
        the active priority (group enables not considered)."""
        intid = self.hppi()
        return intid is not None and self._preempts(intid)

    # -- CPU interface --------------------------------------------------------------------------
    def acknowledge(self) -> int:
        """ICC_IAR1: the signalled INTID, now active, or 1023."""
        if not self.can_signal():
            return SPURIOUS
        intid = self.hppi()
        assert intid is not None
        self.pending &= ~(1 << intid)
        self.active |= 1 << intid
        self.active_priorities.append(self._group_priority(self.priority[intid]))
        return intid

    def end_of_interrupt(self, intid: int) -> None:
        """ICC_EOIR1: priority drop, and deactivation unless EOImode is set."""
        if intid >= 32:
            return
        if self.active_priorities:
            self.active_priorities.remove(min(self.active_priorities))
        if not self.icc_ctlr & ICC_CTLR_EOIMODE:
            self.active &= ~(1 << intid)

    def deactivate(self, intid: int) -> None:
        """ICC_DIR."""
        if intid < 32:
            self.active &= ~(1 << intid)

    def sysreg_read(self, name: str) -> int:
        if name == "ICC_IAR1":
            return self.acknowledge()
        if name == "ICC_HPPIR1":
            intid = self.hppi()
            return SPURIOUS if intid is None or not self.igrpen1 else intid
        if name == "ICC_IAR0" or name == "ICC_HPPIR0":
            return SPURIOUS
        return {"ICC_PMR": self.pmr, "ICC_BPR1": self.bpr1, "ICC_RPR": self.running_priority(),
                "ICC_CTLR": ICC_CTLR_FIXED | self.icc_ctlr, "ICC_SRE": ICC_SRE_VALUE,
                "ICC_IGRPEN1": self.igrpen1}.get(name, 0)

    def sysreg_write(self, name: str, value: int) -> None:
        if name == "ICC_EOIR1":
            self.end_of_interrupt(value & 0xFFFFFF)
        elif name == "ICC_DIR":
            self.deactivate(value & 0xFFFFFF)
        elif name == "ICC_PMR":
            self.pmr = value & PRI_BITS_MASK
        elif name == "ICC_BPR1":
            self.bpr1 = max(value & 7, BPR1_MIN)
        elif name == "ICC_CTLR":
            self.icc_ctlr = value & (ICC_CTLR_EOIMODE | ICC_CTLR_CBPR)
        elif name == "ICC_IGRPEN1":
            self.igrpen1 = value & 1
        # anything else (read-only registers, group 0, SGIs, active priorities) is ignored

    # -- distributor and redistributor MMIO -------------------------------------------------------------
    def gicd_read(self, off: int, size: int) -> int:
        if size == 4 and any(lo <= off <= hi for lo, hi in GICD_RESERVED_READS):
            self.log(f"{self.vcpu}: vGICD: RAZ on reserved register offset {off:#08x}")
            return 0
        reg = {GICD_CTLR: self.gicd_ctlr, GICD_TYPER: self.gicd_typer, GICD_IIDR: GICV3_IIDR_VAL,
               GICD_PIDR2: GICV3_PIDR2}.get(off & ~3, 0)
        return _extract(reg, off, size)

    def gicd_write(self, off: int, size: int, value: int) -> None:
        if size == 4 and GICD_ICACTIVER <= off <= GICD_ICACTIVERN:
            self._unhandled_icactiver("vGICD", off - GICD_ICACTIVER, value)
        elif off == GICD_CTLR and size >= 4:
            self.gicd_ctlr = GICD_CTLR_ARE_NS | (value & GICD_CTLR_ENABLE_G1A)

    def gicr_read(self, off: int, size: int) -> int:
        if off < GICR_FRAME:  # RD_base
            if off & ~7 == GICR_TYPER:
                typer = GICR_TYPER_LAST  # processor 0, affinity 0.0.0.0
                return (typer >> 8 * (off & 7)) & _ones(size)
            reg = {GICR_IIDR: GICV3_IIDR_VAL, GICR_PIDR2: GICV3_PIDR2}.get(off & ~3, 0)
            return _extract(reg, off, size)
        off -= GICR_FRAME  # SGI_base
        if GICR_IPRIORITYR0 <= off < GICR_IPRIORITYR0 + 32:
            n = off - GICR_IPRIORITYR0
            return int.from_bytes(self.priority[n:n + size], "little")
        reg = {GICR_ISENABLER0: self.enabled, GICR_ICENABLER0: self.enabled,
               GICR_ICFGR1: self.icfgr1}.get(off & ~3, 0)
        return _extract(reg, off, size)

    def gicr_write(self, off: int, size: int, value: int) -> None:
        if off < GICR_FRAME:
            return  # RD_base: nothing writable in the model (GICR_WAKER is RAZ/WI on Xen)
        off -= GICR_FRAME
        if GICR_IPRIORITYR0 <= off < GICR_IPRIORITYR0 + 32:
            n = off - GICR_IPRIORITYR0
            self.priority[n:n + size] = (value & _ones(size)).to_bytes(size, "little")[:32 - n]
        elif size < 4:
            return  # the other registers take word accesses only
        elif off == GICR_ISENABLER0:
            self.enabled |= value & 0xFFFFFFFF
        elif off == GICR_ICENABLER0:
            self.enabled &= ~value & 0xFFFFFFFF
        elif off == GICR_ISPENDR0:
            self.pending |= value & 0xFFFFFFFF
        elif off == GICR_ICFGR1:
            self.icfgr1 = value & 0xFFFFFFFF
        elif off == GICR_ICACTIVER0:
            self._unhandled_icactiver("vGICR: SGI", 0, value)

    def _unhandled_icactiver(self, name: str, n: int, value: int) -> None:
        """Xen ignores writes to ICACTIVER (deactivating interrupts is not supported) and says so."""
        self.log(f"{self.vcpu}: {name}: unhandled word write {value & 0xFFFFFFFF:#016x} to ICACTIVER{n}")

    # -- Unicorn ------------------------------------------------------------------------------------
    def map(self, uc, gicd_base: int, gicr_base: int, on_access=lambda: None, after_write=lambda: None) -> None:
        """Map GICD and the redistributor's two frames as MMIO on ``uc``; ``on_access`` is called
        before each access (the trap entry's note that Python state may change), ``after_write``
        after each write."""
        def gicd_write(_uc, off, size, value, _ud):
            on_access()
            self.gicd_write(off, size, value)
            after_write()

        def gicr_write(_uc, off, size, value, _ud):
            on_access()
            self.gicr_write(off, size, value)
            after_write()

        uc.mmio_map(gicd_base, GICD_SIZE, lambda _uc, off, size, _ud: self.gicd_read(off, size), None, gicd_write, None)
        uc.mmio_map(gicr_base, GICR_SIZE, lambda _uc, off, size, _ud: self.gicr_read(off, size), None, gicr_write, None)


def _ones(size: int) -> int:
    return (1 << 8 * size) - 1


def _extract(reg: int, off: int, size: int) -> int:
    """A byte/halfword/word read of a 32-bit register at ``off & ~3`` (wider reads: zero above)."""
    return (reg >> 8 * (off & 3)) & _ones(min(size, 4))
