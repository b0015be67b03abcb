"""The guest's generic timers as Xen 4.17 gives them to a vCPU (xen/arch/arm/vtimer.c, time.c).

The counter runs at the oracle's frequency: CNTFRQ_EL0 = 62.5 MHz (QEMU's generic timer, 16 ns
a tick; Unicorn reports the same CNTFRQ natively). The count is Xen's system time, so it starts
near zero when the domain is built (Xen sets CNTVOFF_EL2 to the count at domain creation) and
jumps with it over idle periods. CNTPCT reads the same count (the model has no earlier host
uptime to add).

- The virtual timer (CNTV_*) is the hardware's, context-switched by Xen: when it fires while the
  vCPU runs, vtimer_interrupt saves CNTV_CTL_EL0, sets its IMASK bit in the hardware register
  (the guest reads it back set) and injects the timer's PPI (27) into the vGIC once.
- The physical timer (CNTP_*) is trapped and emulated with a Xen timer (vtimer_cntp_*): on
  expiry phys_timer_expired sets ISTATUS and injects PPI 30 unless IMASK is set.

ISTATUS reads as the comparison ENABLE && count >= CVAL. Injections are edges: the trap layer
drains ``raised`` into its vGIC at its delivery points."""
from __future__ import annotations

from typing import Callable

CNTFRQ_HZ = 62_500_000
NS_PER_TICK = 1_000_000_000 // CNTFRQ_HZ  # 16
CTL_ENABLE, CTL_IMASK, CTL_ISTATUS = 1 << 0, 1 << 1, 1 << 2
VIRT_TIMER_PPI, PHYS_TIMER_PPI = 27, 30  # GIC INTIDs (the device tree's PPIs 11 and 14, plus 16)
MASK64 = (1 << 64) - 1


class GuestTimer:
    """One of a vCPU's timers: CTL (ENABLE, IMASK), CVAL, and whether it can still fire."""

    def __init__(self, irq: int, mask_on_fire: bool):
        self.irq = irq
        self.mask_on_fire = mask_on_fire
        self.ctl = 0
        self.cval = 0
        self.armed = False

    def rearm(self) -> None:
        self.armed = self.ctl & (CTL_ENABLE | CTL_IMASK) == CTL_ENABLE


class VTimers:
    """The virtual and physical timer of the one vCPU, with their system-register view."""

    def __init__(self, now_ns: Callable[[], int]):
        self.now_ns = now_ns
        self.virt = GuestTimer(VIRT_TIMER_PPI, mask_on_fire=True)
        self.phys = GuestTimer(PHYS_TIMER_PPI, mask_on_fire=False)
        #: INTIDs injected since the trap layer last looked (edges, oldest first)
        self.raised: list[int] = []
        #: Xen system time (ns) when the next armed timer fires, or None
        self.deadline_ns: int | None = None
        self._timers = {"CNTV": self.virt, "CNTP": self.phys}

    # -- the counter ----------------------------------------------------------------------------------
    def count(self) -> int:
        return self.now_ns() // NS_PER_TICK

    # -- system registers (names without _EL0) --------------------------------------------------------
    def read(self, name: str) -> int:
        if name in ("CNTVCT", "CNTPCT"):
            return self.count()
        if name == "CNTFRQ":
            return CNTFRQ_HZ
        t = self._timers[name[:4]]
        reg = name[5:]
        if reg == "CTL":
            fired = t.ctl & CTL_ENABLE and self.count() >= t.cval
            return t.ctl | (CTL_ISTATUS if fired else 0)
        if reg == "CVAL":
            return t.cval
        return (t.cval - self.count()) & 0xFFFFFFFF  # TVAL: the low 32 bits of CVAL - count

    def write(self, name: str, value: int) -> None:
        t = self._timers.get(name[:4])
        if t is None:
            return  # the counters and CNTFRQ are not writable at EL1
        reg = name[5:]
        if reg == "CTL":
            t.ctl = value & (CTL_ENABLE | CTL_IMASK)
        elif reg == "CVAL":
            t.cval = value & MASK64
        else:  # TVAL: CVAL = count + the signed 32-bit value
            tval = value & 0xFFFFFFFF
            t.cval = (self.count() + (tval - (1 << 32) if tval >> 31 else tval)) & MASK64
        t.rearm()
        self._update_deadline()

    # -- firing ---------------------------------------------------------------------------------------
    def _update_deadline(self) -> None:
        deadlines = [t.cval * NS_PER_TICK for t in (self.virt, self.phys) if t.armed]
        self.deadline_ns = min(deadlines) if deadlines else None

    def due(self) -> bool:
        return self.deadline_ns is not None and self.now_ns() >= self.deadline_ns

    def run(self) -> bool:
        """Fire the armed timers whose CVAL the count has reached; True if any did."""
        if self.deadline_ns is None:
            return False
        count = self.count()
        fired = False
        for t in (self.virt, self.phys):
            if t.armed and count >= t.cval:
                t.armed = False
                if t.mask_on_fire:
                    t.ctl |= CTL_IMASK
                self.raised.append(t.irq)
                fired = True
        if fired:
            self._update_deadline()
        return fired
