"""Interrupt delivery: the event-channel PPI from Xen's model through the vGIC into the guest's
IRQ vector, at points where the emulator can resume exactly.

Xen injects the event-channel PPI (d->arch.evtchn_irq) on each 0 -> 1 edge of vCPU0's
evtchn_upcall_pending (vcpu_mark_events_pending -> vgic_inject_irq); the model counts those edges
in ``Domain.evtchn_irq_raised`` and this module latches each new one as pending in the vGIC. The
vGIC signals an IRQ when the interrupt is pending, enabled, above the priority mask and the running
priority, with group 1 enabled; the vCPU takes it when PSTATE.I / CPSR.I is clear.

Delivery points (the only places the model changes the PC, so every resume is exact):

- in the HVC hook, after the hypercall's result is written (ELR = the instruction after the HVC,
  or the HVC itself for a continuation);
- in the undefined-instruction hook, after an emulated ICC_* access (EOIR, PMR, IGRPEN1, ...) or
  generic-timer access (the loader rewrote those into UDFs; a CVAL already passed fires here);
- between two runs of the emulator: when a blocked or waiting (WFI) vCPU wakes (a WFI idles until
  the next timer deadline). The emulator is not stopped asynchronously at a generic-timer
  deadline (see Machine._slice_us): a due timer is delivered at the next point here;
- at the first basic block after the guest unmasks IRQs: while an interrupt is signalled but
  masked, a block hook watches PSTATE.I. Unicorn (like QEMU) ends the translation block after
  every write to DAIF/CPSR (msr daifclr, msr daif, cpsie, msr cpsr_c, eret), so the next block
  starts right after the unmasking instruction. A hook applies only to blocks translated later,
  so a hook is added between two runs (after an emu_stop at a safe point) with a flush of the
  translation cache, which for a Linux kernel costs tens of milliseconds. The hook is native
  (cpu/native/watch.c): added the first time it is needed and then kept, armed and disarmed by
  a flag (a test per block while disarmed; Python is called only at an unmasked block while
  armed), so there is one flush per run. Without the compiled extension a Python block hook is
  added and removed each time, with a flush each time.

Not a delivery point: a GIC MMIO write (enabling a pending PPI, ISPENDR0). An emu_stop inside
Unicorn's MMIO callback is not exact (seen here: the run stops with the PC back at the store, or
at the start of its translation block with later registers already changed, and the store is
replayed), so such an interrupt is taken at the next point above (the next hypercall, ICC_*
access, WFI or unmask with the watch armed), where Xen would take it right after the store.
"""
from __future__ import annotations

from unicorn import UC_HOOK_BLOCK, Uc

from ..hypervisor.shared_info import upcall_pending
from ..hypervisor.xen import Xen
from .gic import VGic
from .native import UnmaskWatch, native_hooks_available


class IrqDelivery:
    def __init__(self, uc: Uc, cpu, gic: VGic, xen: Xen, evtchn_irq: int, irq_mask: tuple[int, int]):
        self.uc, self.cpu, self.gic, self.xen = uc, cpu, gic, xen
        self.domain = xen.domain
        self.evtchn_irq = evtchn_irq
        #: the vCPU's generic timers (Xen's model), whose PPIs this delivers too
        self.timers = xen.vtimers
        self.seen = xen.domain.evtchn_irq_raised
        #: the native unmask watch (installed on first need, then armed by a flag), or None
        self.native = UnmaskWatch(uc, *irq_mask, self._on_unmask) if native_hooks_available(uc) else None
        #: the Python block hook watching for the guest to unmask IRQs, while one is armed
        self.window: int | None = None
        #: set (with emu_stop) when the run loop must look at the interrupt state
        self.check_requested = False
        #: IRQs taken (for tests and statistics)
        self.taken = 0

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

    # -- delivery points -------------------------------------------------------------------------------
    def at_exact_point(self) -> None:
        """In a hook that set the PC itself (HVC, emulated ICC access): take the IRQ now if the
        vGIC signals one and IRQs are unmasked; if they are masked, have the run loop arm the
        unmask watch."""
        self.sync()
        if not self.gic.can_signal() or not self._runnable():
            return
        if self.cpu.irq_masked():
            if self.native is not None and self.native.installed:
                self.native.arm()
            elif self.window is None:
                self.check_requested = True
                self.uc.emu_stop()
            return
        self._take()

    def at_stop(self) -> None:
        """Between two runs of the emulator (the PC is where the guest resumes)."""
        self.check_requested = False
        self.sync()
        if not self.gic.can_signal() or not self._runnable():
            self._disarm()
            return
        if self.cpu.irq_masked():
            self._arm()
            return
        self._take()

    def _take(self) -> None:
        self._disarm()
        if self.xen.tracing:
            self.xen.irq_taken(self.gic.hppi() or 0, self.cpu.pc())
        self.cpu.take_irq()
        self.taken += 1

    # -- the unmask watch ------------------------------------------------------------------------------
    def _arm(self) -> None:
        """Between two runs (or, for the installed native watch, anywhere)."""
        if self.native is not None:
            if not self.native.installed:
                self.native.install()
                self.uc.ctl_flush_tb()  # blocks translated before carry no call to the new hook
            self.native.arm()
        elif self.window is None:
            self.window = self.uc.hook_add(UC_HOOK_BLOCK, self._on_block)
            self.uc.ctl_flush_tb()  # blocks translated before carry no call to the new hook

    def _disarm(self) -> None:
        if self.native is not None:
            self.native.disarm()
        elif self.window is not None:
            self.uc.hook_del(self.window)
            self.window = None

    def _on_block(self, _uc, _addr, _size, _ud) -> None:
        if self.window is not None and not self.cpu.irq_masked():
            self._on_unmask(_addr)

    def _on_unmask(self, _address: int) -> None:
        """The first block the guest runs with IRQs unmasked while the watch is armed."""
        self.sync()
        if self.gic.can_signal() and self._runnable():
            self._take()  # the PC is the start of this block: the IRQ returns here
        else:
            self._disarm()

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
        self.at_exact_point()
        return True
