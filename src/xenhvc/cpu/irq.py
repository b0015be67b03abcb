"""Interrupt delivery: the event-channel PPI and the generic timers' PPIs from Xen's model
through the vGIC to the vCPU's virtual IRQ line, which the CPU takes into the guest's IRQ vector.

Xen injects the event-channel PPI (d->arch.evtchn_irq) on each 0 -> 1 edge of vCPU0's
evtchn_upcall_pending (vcpu_mark_events_pending -> vgic_inject_irq); the model counts those edges
in ``Domain.evtchn_irq_raised`` and this module latches each new one as pending in the vGIC. The
vGIC signals an IRQ when the interrupt is pending, enabled, above the priority mask and the running
priority, with group 1 enabled; the vCPU takes it when PSTATE.I / CPSR.I is clear.

The line is what the hardware's virtual CPU interface drives (a list register the vCPU's GIC
interface signals): HCR_EL2.VI (HCR.VI on AArch32), with IMO routing virtual IRQs to EL1. Unicorn's
CPU (QEMU's) takes that virtual IRQ itself, architecturally, at the first instruction boundary
where it is unmasked: right after an msr daifclr / msr daif / cpsie / eret that unmasks (QEMU ends
the translation block after each and looks at its interrupt lines), or at once if it is already
unmasked. Nothing watches the guest's blocks for the unmask.

The line follows the vGIC at these points (the only places the model runs between two guest
instructions, so the CPU takes the IRQ exactly where hardware would):

- in the HVC hook, after the hypercall's result is written (the IRQ returns to the instruction
  after the HVC, or to the HVC itself for a continuation);
- in the undefined-instruction hook, after an emulated ICC_* access (IAR, EOIR, PMR, IGRPEN1, ...)
  or generic-timer access (the loader rewrote those into UDFs; a CVAL already passed fires here);
- between two runs of the emulator: when a blocked or waiting (WFI) vCPU wakes (a WFI idles until
  the next timer deadline), or a timer fired.

A GIC MMIO write (enabling a pending PPI, ISPENDR0) only ever lowers the line: raising it inside
Unicorn's MMIO callback makes the CPU leave the block mid-instruction and replay the store (QEMU's
interrupt request, taken by Unicorn's check after each store), so an interrupt such a write lets
in is raised at the next point above, where Xen would take it right after the store.

In a traced run, the CPU entering an IRQ vector is seen by a block hook on those few addresses (a
block starts there only for an exception entry): it records the take (the trace's "IRQ n: taken"
line) with the address the IRQ interrupted. Untraced, nothing needs to know."""
from __future__ import annotations

from unicorn import UC_HOOK_BLOCK, Uc

from ..hypervisor.shared_info import upcall_pending
from ..hypervisor.xen import Xen
from .gic import VGic


class IrqDelivery:
    def __init__(self, uc: Uc, cpu, gic: VGic, xen: Xen, evtchn_irq: int, on_entry=lambda: None):
        self.uc, self.cpu, self.gic, self.xen = uc, cpu, gic, xen
        self.domain = xen.domain
        self.evtchn_irq = evtchn_irq
        #: the vCPU's generic timers (Xen's model), whose PPIs this delivers too
        self.timers = xen.vtimers
        self.seen = xen.domain.evtchn_irq_raised
        #: the virtual IRQ line as last set
        self.line = False
        #: called at the vector hook, before anything else (the trap entry's python_entered)
        self.on_entry = on_entry
        #: the IRQ vectors the hook watches, and its handle
        self.vectors: tuple[int, ...] = ()
        self._vector_hook: int | None = None

    # -- state ---------------------------------------------------------------------------------------
    def sync(self) -> None:
        """Latch the edges Xen's model raised since the last look as pending PPIs: the
        event-channel PPI, and the generic timers' PPIs (firing the ones that are due)."""
        raised = self.domain.evtchn_irq_raised
        if raised != self.seen:
            self.seen = raised
            self.gic.inject(self.evtchn_irq)
        timers = self.timers
        if timers.deadline_ns is not None:
            timers.run()
        if timers.raised:
            for intid in timers.raised:
                self.gic.inject(intid)
            timers.raised.clear()

    def events_pending_nomask(self) -> bool:
        """local_events_need_delivery_nomask: an enabled interrupt the vGIC would signal, or
        evtchn_upcall_pending while the event-channel PPI is not inflight."""
        self.sync()
        if self.gic.vcpu_pending_irq():
            return True
        if not upcall_pending(self.domain, self.xen.ctx.mem):
            return False
        return not self.gic.inflight(self.evtchn_irq)

    def events_pending(self) -> bool:
        """local_events_need_delivery."""
        return not self.cpu.irq_masked() and self.events_pending_nomask()

    def _runnable(self) -> bool:
        d = self.domain
        return not d.blocked and not d.is_shutting_down

    # -- the line ------------------------------------------------------------------------------------
    def update(self) -> None:
        """At a delivery point (a hook that set the PC itself, or between two runs): drive the
        line from the vGIC. The CPU takes the IRQ when it next looks, if it is unmasked."""
        self.sync()
        level = self._runnable() and self.gic.can_signal()
        if level and self.xen.tracing:
            self._watch_vectors()
        self._set_line(level)

    def after_mmio_write(self) -> None:
        """A GIC MMIO write: lower the line if the vGIC no longer signals (never raise it here)."""
        if self.line and not self.gic.can_signal():
            self._set_line(False)

    def _set_line(self, level: bool) -> None:
        if level != self.line:
            self.cpu.set_virq(level)
            self.line = level

    # -- the vector hook -----------------------------------------------------------------------------
    def _watch_vectors(self) -> None:
        """Hook the IRQ vectors the CPU would enter now (they move with VBAR). A hook applies to
        blocks translated after it is added, so the blocks at those addresses are dropped from
        the translation cache."""
        vectors = self.cpu.irq_vectors()
        if vectors == self.vectors:
            return
        if self._vector_hook is not None:
            self.uc.hook_del(self._vector_hook)
        self.vectors = vectors
        self._vector_hook = self.uc.hook_add(UC_HOOK_BLOCK, self._on_vector, begin=min(vectors), end=max(vectors))
        for address in vectors:
            self.uc.ctl_remove_cache(address, address + 4)

    def _on_vector(self, _uc, address: int, _size, _ud) -> None:
        """A block at an IRQ vector (traced runs): with the line raised, the CPU took the IRQ."""
        if not self.line or address not in self.vectors:
            return
        self.on_entry()
        self.xen.irq_taken(self.gic.hppi() or 0, self.cpu.interrupted_pc())

    # -- the ICC_* system registers -----------------------------------------------------------------
    def emulate_sysreg(self, pc: int) -> bool:
        """Emulate the ICC_* access at ``pc`` that Unicorn found undefined: write the destination
        register (MRS/MRC) or the vGIC (MSR/MCR), step past it, deliver if that lets an IRQ in.
        False if the instruction is something else."""
        cpu = self.cpu
        access = cpu.sysreg_at(pc)
        if access is None:
            return False
        if access.name.startswith("CNT"):  # a generic-timer access (Xen's vtimer model)
            if access.read:
                value = self.timers.read(access.name)
                cpu.set_gpr(access.rt, value if access.rt2 is None else value & 0xFFFFFFFF)
                if access.rt2 is not None:  # MRRC: bits 63:32 to Rt2
                    cpu.set_gpr(access.rt2, value >> 32)
            else:
                value = cpu.get_gpr(access.rt)
                if access.rt2 is not None:  # MCRR
                    value |= cpu.get_gpr(access.rt2) << 32
                self.timers.write(access.name, value)
        elif access.name.startswith("ID_"):  # an ID register Xen answers (HCR_EL2.TID3)
            cpu.set_gpr(access.rt, cpu.id_register(access.name))
        elif access.read:
            self.sync()
            cpu.set_gpr(access.rt, self.gic.sysreg_read(access.name))
        else:
            self.gic.sysreg_write(access.name, cpu.get_gpr(access.rt))
        cpu.skip(pc)
        self.update()
        return True
