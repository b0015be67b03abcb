"""do_sched_op (xen/common/sched/core.c), domain_shutdown (xen/common/domain.c)."""
from __future__ import annotations

from ...abi import structs
from ...abi.errno import Errno
from ...abi.hypercalls import Hypercall
from ...abi.sched import NR_DOMAIN_WATCHDOG_TIMERS, SCHED_POLL_MAX_PORTS, SHUTDOWN_CODE_INVALID, SchedOp
from ..context import HypercallContext
from ..domain import Watchdog
from . import Handler
from .event_channel_op import evtchn_port_poll

NR_CPUS = 128  # CONFIG_NR_CPUS of the Debian build
NR_PCPUS = 1  # the oracle's QEMU has one CPU
#: d->valid_evtchns before any bucket beyond the first is allocated (EVTCHNS_PER_BUCKET)
EVTCHNS_PER_BUCKET = 64
NS_PER_S = 1_000_000_000


def do_poll(ctx: HypercallContext, ports: int, nr_ports: int, timeout: int) -> int:
    if nr_ports > SCHED_POLL_MAX_PORTS:
        return -Errno.EINVAL
    if ctx.events_pending():
        return 0
    for i in range(nr_ports):
        (port,) = ctx.read_struct(ports + i * structs.evtchn_port.size, structs.evtchn_port)
        pending = evtchn_port_poll(ctx, port)
        if pending < 0:
            return pending  # -EINVAL: an invalid port
        if pending:
            return 0
    if timeout == 0:
        ctx.domain.blocked = True  # nothing will ever wake it
    return 0


def domain_watchdog(ctx: HypercallContext, wid: int, timeout: int) -> int:
    d = ctx.domain
    if wid > NR_DOMAIN_WATCHDOG_TIMERS:
        return -Errno.EINVAL
    deadline = ctx.now_ns() + timeout * NS_PER_S
    if wid == 0:
        for i, slot in enumerate(d.watchdogs):
            if slot is None:
                d.watchdogs[i] = Watchdog(deadline)
                return i + 1
        return -Errno.ENOSPC
    i = wid - 1
    if d.watchdogs[i] is None:
        return -Errno.EINVAL
    d.watchdogs[i] = None if timeout == 0 else Watchdog(deadline)
    return 0


def do_sched_op(ctx: HypercallContext, cmd: int, arg: int) -> int:
    d = ctx.domain
    if cmd == SchedOp.SCHEDOP_yield:
        return 0
    if cmd == SchedOp.SCHEDOP_block:
        ctx.enable_event_delivery()  # vcpu_block_enable_events unmasks the guest's IRQs
        if not ctx.events_pending():
            d.blocked = True
        return 0
    if cmd == SchedOp.SCHEDOP_shutdown:
        (reason,) = ctx.read_struct(arg, structs.sched_shutdown)
        d.shutdown(reason & 0xFF)
        return 0
    if cmd == SchedOp.SCHEDOP_shutdown_code:
        (reason,) = ctx.read_struct(arg, structs.sched_shutdown)
        if d.shutdown_code == SHUTDOWN_CODE_INVALID:
            d.shutdown_code = reason & 0xFF
        return 0
    if cmd == SchedOp.SCHEDOP_poll:
        ports, nr_ports, timeout = ctx.read_struct(arg, structs.sched_poll)
        return do_poll(ctx, ports, nr_ports, timeout)
    if cmd == SchedOp.SCHEDOP_remote_shutdown:
        domid, reason = ctx.read_struct(arg, structs.sched_remote_shutdown)
        target = ctx.find_domain(domid)
        if target is None:
            return -Errno.ESRCH
        if not d.privileged:  # XSM_DM_PRIV: no domain here is another's device model
            return -Errno.EPERM
        target.shutdown(reason & 0xFF)
        return 0
    if cmd == SchedOp.SCHEDOP_watchdog:
        wid, timeout = ctx.read_struct(arg, structs.sched_watchdog)
        return domain_watchdog(ctx, wid, timeout)
    if cmd == SchedOp.SCHEDOP_pin_override:
        if not d.privileged:
            return -Errno.EPERM
        (pcpu,) = ctx.read_struct(arg, structs.sched_pin_override)
        if pcpu >= NR_CPUS:
            return -Errno.EINVAL
        if pcpu < 0:  # undo an override: none is active unless one was set
            if d.pin_override:
                d.pin_override = False
                return 0
            return -Errno.EINVAL
        if pcpu >= NR_PCPUS:
            return -Errno.EINVAL
        if d.pin_override:
            return -Errno.EBUSY
        d.pin_override = True
        return 0
    return -Errno.ENOSYS


HANDLER = Handler(Hypercall.sched_op, do_sched_op, SchedOp)
