"""The hypervisor model: one domain with one vCPU, the Arm hypercall table as a lookup, SMCCC,
and the trace. The trap layer calls :meth:`Xen.hypercall` and :meth:`Xen.smccc`."""
from __future__ import annotations

import time
from typing import Callable

from ..abi.errno import Errno
from ..abi.hypercalls import ARM_TABLE, INT, UINT, coerce_arg, hypercall_name
from ..abi.sched import NR_DOMAIN_WATCHDOG_TIMERS, Shutdown
from ..abi.smccc import SMCCC_ARITY
from ..abi.xen import DOMID_SELF
from ..arch import Arch
from ..trace import TraceRecord, format_args
from .build import XenBuild
from .decode import decode_pointer
from .context import ConsoleInput, GuestFault, GuestMemory, HypercallContext, VcpuControl
from .domain import Domain, make_domain
from .evtchn import Events, Virq, evtchn_state
from .handlers import HANDLERS
from .serial import SerialRx
from .shared_info import upcall_pending
from .vsmc import SmcccRegs, Vsmc, smccc_name
from .vtimer import VTimers


def _cast(kind: str):
    """The C parameter cast for one argument kind, or None where the register is taken whole."""
    if kind in (INT, UINT):
        return lambda v, kind=kind: coerce_arg(kind, v)
    return None


_NO_WATCHDOGS = [None] * NR_DOMAIN_WATCHDOG_TIMERS

#: nr -> (handler function, per-argument casts): the table and the handlers joined once
#: hypercalls with sub-ops their handler lists as pure (Xen.pure)
_PURE_NRS = frozenset(nr for nr, h in HANDLERS.items() if h.pure_subops)
_ENTRIES = {nr: (HANDLERS[nr].fn, tuple(_cast(k) for k in spec.params))
            for nr, spec in ARM_TABLE.items() if nr in HANDLERS}


#: GUEST_EVTCHN_PPI (public/arch-arm.h): the event-channel PPI of domains other than dom0
GUEST_EVTCHN_PPI = 31
HVM_PARAM_CALLBACK_IRQ = 0
HVM_PARAM_CALLBACK_TYPE_PPI = 2


def evtchn_irq(d: Domain) -> int:
    """d->arch.evtchn_irq: GUEST_EVTCHN_PPI (arch_domain_create), except where the domain
    builder gave the domain a PPI through HVM_PARAM_CALLBACK_IRQ (dom0: evtchn_allocate)."""
    param = d.hvm_params.get(HVM_PARAM_CALLBACK_IRQ, 0)
    if param >> 56 == HVM_PARAM_CALLBACK_TYPE_PPI:
        return param & 0xFF
    return GUEST_EVTCHN_PPI


class Xen:
    def __init__(self, arch: Arch, build: XenBuild, domain: Domain, mem: GuestMemory, vcpu: VcpuControl,
                 console_out: Callable[[bytes], None], console_in: ConsoleInput,
                 log: Callable[[str], None], tracing: bool = False, warn: Callable[[str], None] | None = None,
                 on_trace: Callable[[TraceRecord, int], None] | None = None, memory_pages: int = 0,
                 preempt_every: int = 0, clock: Callable[[], int] | None = None, keep_trace: bool = True):
        self.arch = arch
        self.build = build
        self.domain = domain
        self.log = log
        self.warn = warn or log  # xenhvc's own warnings (not Xen's log)
        self.tracing = tracing
        #: the records so far (only with keep_trace: a run that streams them to on_trace
        #: need not hold a million of them)
        self.trace: list[TraceRecord] = []
        self.keep_trace = keep_trace
        self.last_record: TraceRecord | None = None
        self.on_trace = on_trace
        #: called before the model records anything: the trap layer's records of calls it
        #: answered itself come first
        self.before_record: Callable[[], None] | None = None
        #: the source of Xen system time: the host's monotonic clock, or (--deterministic) one
        #: derived from the guest code run
        self._clock = clock or time.monotonic_ns
        self._boot_ns = self._clock()
        self._time_offset_ns = 0
        self.vsmc = Vsmc(domain, is_64bit=arch.word_bits == 64)
        #: the vCPU's generic timers (vtimer.c), counting Xen's system time
        self.vtimers = VTimers(self.now_ns)
        self.ctx = HypercallContext(arch=arch, build=build, mem=mem, domain=domain, console_out=console_out,
                                    console_in=SerialRx(console_in), log=log, vcpu=vcpu, now_ns=self.now_ns,
                                    find_domain=self.find_domain, call=self.dispatch, warn=self.warn,
                                    memory_pages=lambda: memory_pages,
                                    find_domain_at_or_after=self.find_domain_at_or_after)
        self._warned: set[int] = set()
        self.preempt_every = preempt_every
        self._preempt_checks = 0
        #: (op, args) of the continuation the last top-level hypercall created, for the trap layer
        self.continuation: tuple[int, tuple[int, ...]] | None = None
        #: continuation arguments of a sub-call inside a multicall
        self.mc_continuation: tuple[int, ...] | None = None
        self.ctx.preempt_check = self.preempt_check
        self.ctx.create_continuation = self.create_continuation
        self.ctx.take_mc_continuation = self._take_mc_continuation
        self.ctx.clear_mc_continuation = self._take_mc_continuation
        self.others: dict[int, Domain] = {} if domain.privileged else {0: make_domain(0)}
        #: d->arch.evtchn_irq, fixed when the domain is built
        self.evtchn_irq = evtchn_irq(domain)

    # -- the serial console ---------------------------------------------------------------------------
    @property
    def serial(self) -> SerialRx:
        return self.ctx.console_in

    def poll_console(self) -> None:
        """Take what was typed at the console into serial_rx_ring; each arrival notifies dom0
        (__serial_rx: send_global_virq(VIRQ_CONSOLE)). A domU never has the input focus here."""
        if self.serial.poll() and self.domain.privileged:
            self.send_global_virq(Virq.VIRQ_CONSOLE)

    def console_can_wake(self) -> bool:
        """Whether input typed at the console could still wake this domain: more can come, the
        ring has room, and it is dom0 with VIRQ_CONSOLE bound."""
        return (self.serial.open and self.serial.has_room and self.domain.privileged
                and bool(evtchn_state(self.domain).virq_to_evtchn[Virq.VIRQ_CONSOLE]))

    def send_global_virq(self, virq: int) -> None:
        """send_global_virq for the one domain: raise the port the VIRQ is bound to, if any."""
        st = evtchn_state(self.domain)
        port = st.virq_to_evtchn[virq]
        if port:
            Events(self.domain, self.ctx.mem).set_pending(st.channels[port])

    def upcall_pending(self) -> bool:
        """vCPU0's evtchn_upcall_pending."""
        return upcall_pending(self.domain, self.ctx.mem)

    # -- time and domains -------------------------------------------------------------------------
    def now_ns(self) -> int:
        """Xen system time: nanoseconds since boot (fast-forwarded over idle periods)."""
        return self._clock() - self._boot_ns + self._time_offset_ns

    def host_clock_base_ns(self) -> int | None:
        """now_ns() - time.monotonic_ns(), while Xen's clock is the host's (not --deterministic)."""
        return self._time_offset_ns - self._boot_ns if self._clock is time.monotonic_ns else None

    def advance_to(self, when_ns: int) -> None:
        self._time_offset_ns += max(0, when_ns - self.now_ns())

    def find_domain(self, domid: int) -> Domain | None:
        """rcu_lock_domain_by_any_id: DOMID_SELF names the caller. An unprivileged domain runs
        beside a dom0 (as on the oracle, whose dom0less domU has a small observer dom0), which
        exists for lookups but does nothing."""
        if domid in (self.domain.domid, DOMID_SELF):
            return self.domain
        return self.others.get(domid)

    def find_domain_at_or_after(self, domid: int) -> Domain | None:
        return next((d for d in sorted([self.domain, *self.others.values()], key=lambda d: d.domid)
                     if d.domid >= domid), None)

    def next_timer_ns(self, *, guest_timers: bool = True) -> int | None:
        """When the next Xen timer fires: the watchdogs and (unless told not to) the vCPU's
        generic timers."""
        deadlines = [w.deadline_ns for w in self.domain.watchdogs if w is not None]
        if guest_timers and self.vtimers.deadline_ns is not None:
            deadlines.append(self.vtimers.deadline_ns)
        return min(deadlines) if deadlines else None

    def timers_armed(self) -> bool:
        """Whether any Xen timer (a watchdog or a generic timer of the vCPU) is armed."""
        return self.vtimers.deadline_ns is not None or self._watchdogs_armed()

    def run_timers(self) -> None:
        """Fire expired watchdogs (domain_watchdog_timeout: "Watchdog timer fired for domain N")
        and the vCPU's generic timers (their PPIs wait in ``vtimers.raised`` for the vGIC)."""
        self.vtimers.run()
        now = self.now_ns()
        for i, w in enumerate(self.domain.watchdogs):
            if w is not None and w.deadline_ns <= now:
                self.log(f"Watchdog timer fired for domain {self.domain.domid}")
                self.domain.watchdogs[i] = None
                self.domain.shutdown(Shutdown.SHUTDOWN_watchdog)

    # -- preemption -----------------------------------------------------------------------------
    def preempt_check(self) -> bool:
        """hypercall_preempt_check: with ``preempt_every`` N, every Nth check says yes (so guests
        can test their continuation handling deterministically); otherwise never."""
        if not self.preempt_every:
            return False
        self._preempt_checks += 1
        return self._preempt_checks % self.preempt_every == 0

    def create_continuation(self, op: int, *args: int) -> int:
        """hypercall_create_continuation (xen/arch/arm/domain.c): the re-issued call's arguments
        go to the registers (or, inside a multicall, into the entry), and the HVC runs again."""
        if self.domain.in_multicall:
            self.mc_continuation = args
        else:
            self.continuation = (op, args)
        return args[0] if args else 0

    def _take_mc_continuation(self) -> tuple[int, ...] | None:
        sub, self.mc_continuation = self.mc_continuation, None
        return sub

    # -- entry points from the trap layer ------------------------------------------------------------
    def hypercall(self, nr: int, raw_args: tuple[int, ...], pc: int = 0) -> int:
        """do_trap_hypercall's call_handlers_arm: returns the signed result for x0/r0."""
        if not self.tracing:  # the hot path
            self.continuation = None
            result = self.dispatch(nr, raw_args)
            if self._watchdogs_armed():
                self.run_timers()
            return result
        self.ctx.notes = []
        spec = ARM_TABLE.get(nr)
        args = tuple(coerce_arg(k, v) for k, v in zip(spec.params, raw_args)) if spec else raw_args
        decoded = decode_pointer(self.ctx, nr, args) if spec else None  # the IN fields, before the call
        self.continuation = None
        result = self.dispatch(nr, raw_args)
        if self.continuation is not None:
            op, cargs = self.continuation
            self.ctx.notes.append(f"preempted: continues as {hypercall_name(op)}({', '.join(hex(a) for a in cargs)})")
        if self._watchdogs_armed():
            self.run_timers()
        handler = HANDLERS.get(nr) if spec is not None else None
        self._record(TraceRecord("hypercall", hypercall_name(nr), args,
                                 format_args(spec, args, handler.subops if handler else None, decoded),
                                 result, tuple(self.ctx.notes), pc))
        return result

    def dispatch(self, nr: int, raw_args: tuple[int, ...]) -> int:
        """One hypercall through the Arm table (also the multicall path)."""
        entry = _ENTRIES.get(nr)
        if entry is None:
            return -Errno.ENOSYS if nr not in ARM_TABLE else self._not_modelled(nr)
        fn, casts = entry
        try:
            return fn(self.ctx, *[cast(v) if cast else v for cast, v in zip(casts, raw_args)])
        except GuestFault:
            return -Errno.EFAULT

    def pure(self, nr: int, raw_args: tuple[int, ...]) -> bool:
        """Whether the answer to this call depends only on its number and arguments and the
        call changes nothing: a number outside the Arm table (-ENOSYS), or a sub-op its handler
        lists as pure. Never with preemption forced. (A traced run repeats the first call's
        record for each answer the trap layer gives from its memo.)"""
        if self.preempt_every:
            return False
        if nr not in ARM_TABLE:
            return True
        if nr not in _PURE_NRS or not raw_args:
            return False
        return coerce_arg(ARM_TABLE[nr].params[0], raw_args[0]) in HANDLERS[nr].pure_subops

    def _watchdogs_armed(self) -> bool:
        return self.domain.watchdogs != _NO_WATCHDOGS

    def _not_modelled(self, nr: int) -> int:
        if nr not in self._warned:
            self._warned.add(nr)
            self.warn(f"{hypercall_name(nr)} is not modelled yet; answering -ENOSYS")
        return -Errno.ENOSYS

    def smccc_pure(self, fid: int) -> bool:
        """Xen.pure for an SMCCC call (Vsmc.pure); never with preemption forced."""
        return not self.preempt_every and self.vsmc.pure(fid)

    def smccc(self, regs: SmcccRegs, pc: int = 0) -> None:
        fid = regs.get(0) & 0xFFFFFFFF
        args = (fid,) + tuple(regs.get(n) for n in range(1, 1 + SMCCC_ARITY.get(fid, 0))) if self.tracing else ()
        if not self.vsmc.call(regs):
            self.log(f"d{self.domain.domid}v0 Unhandled SMC/HVC: {fid:#x}")
        if self.tracing:
            result = self.arch.to_signed(regs.get(0)) if not self.domain.is_shutting_down else None
            self._record(TraceRecord("smccc", smccc_name(fid), args, ", ".join(hex(a) for a in args[1:]),
                                          result, (), pc))

    def invalid_hvc(self, imm: int, pc: int) -> None:
        self.log(f"d{self.domain.domid}v0 Invalid HVC imm {imm:#x}")
        if self.tracing:
            self._record(TraceRecord("undef", f"hvc #{imm:#x}", (imm,), "undefined instruction injected", None,
                                     (), pc))

    def irq_taken(self, intid: int, pc: int) -> None:
        """The trap layer delivered a virtual interrupt into the guest's IRQ vector."""
        if self.tracing:
            self._record(TraceRecord("irq", f"IRQ {intid}", (intid,), "taken in the guest's IRQ vector", None,
                                     (), pc))

    def _record(self, record: TraceRecord) -> None:
        if self.before_record is not None:
            self.before_record()
        self.record_repeats(record, 1)

    def record_repeats(self, record: TraceRecord, count: int) -> None:
        """``count`` calls in a row that each made ``record`` (the trap layer's native fast path
        answers repeated pure calls from a memo of the model's record of the first)."""
        self.last_record = record
        if self.keep_trace:
            self.trace.extend([record] * count)
        if self.on_trace:
            self.on_trace(record, count)
