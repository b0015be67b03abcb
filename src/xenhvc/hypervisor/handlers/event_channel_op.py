"""do_event_channel_op (xen/common/event_channel.c; FIFO ops in event_fifo.c), with SILO's
evtchn_unbound/evtchn_interdomain checks (xen/xsm/silo.c) over the dummy XSM_TARGET/XSM_HOOK.

Each sub-op copies its struct in (-EFAULT), acts, and on success copies the whole struct back.
With a single domain, a remote domain is either the caller (DOMID_SELF or its own id: loopback)
or does not exist (-ESRCH)."""
from __future__ import annotations

import struct
from enum import IntEnum

from ...abi.errno import Errno
from ...abi.hypercalls import Hypercall
from ...abi.xen import DOMID_SELF
from ..context import HypercallContext
from ..evtchn import (ECS, EVTCHN_FIFO_CONTROL_BLOCK_SIZE, EVTCHN_FIFO_LINK_BITS, EVTCHN_FIFO_MAX_EVENT_ARRAY_PAGES,
                      EVTCHN_FIFO_PRIORITY_DEFAULT, EVTCHN_FIFO_PRIORITY_MIN, NR_PIRQS, NR_VIRQS, Channel, Events, Fifo,
                      virq_is_global)
from . import Handler
from .memory_op import guest_page_ok

PAGE_SIZE = 4096


class EvtchnOp(IntEnum):
    EVTCHNOP_bind_interdomain = 0
    EVTCHNOP_bind_virq = 1
    EVTCHNOP_bind_pirq = 2
    EVTCHNOP_close = 3
    EVTCHNOP_send = 4
    EVTCHNOP_status = 5
    EVTCHNOP_alloc_unbound = 6
    EVTCHNOP_bind_ipi = 7
    EVTCHNOP_bind_vcpu = 8
    EVTCHNOP_unmask = 9
    EVTCHNOP_reset = 10
    EVTCHNOP_init_control = 11
    EVTCHNOP_expand_array = 12
    EVTCHNOP_set_priority = 13
    EVTCHNOP_reset_cont = 14


class EvtchnStat(IntEnum):
    EVTCHNSTAT_closed = 0
    EVTCHNSTAT_unbound = 1
    EVTCHNSTAT_interdomain = 2
    EVTCHNSTAT_pirq = 3
    EVTCHNSTAT_virq = 4
    EVTCHNSTAT_ipi = 5


#: struct layouts (xen/include/public/event_channel.h; one layout for arm32 and arm64)
evtchn_bind_interdomain = struct.Struct("<H2xII")  # remote_dom, remote_port, OUT local_port
evtchn_bind_virq = struct.Struct("<III")  # virq, vcpu, OUT port
evtchn_bind_pirq = struct.Struct("<III")  # pirq, flags, OUT port
evtchn_port_arg = struct.Struct("<I")  # close, send, unmask: port
evtchn_status = struct.Struct("<H2xIII8s")  # dom, port, OUT status, vcpu, union u
evtchn_alloc_unbound = struct.Struct("<HHI")  # dom, remote_dom, OUT port
evtchn_bind_ipi = struct.Struct("<II")  # vcpu, OUT port
evtchn_bind_vcpu = struct.Struct("<II")  # port, vcpu
evtchn_reset = struct.Struct("<H")  # dom
evtchn_init_control = struct.Struct("<QII")  # control_gfn, offset, vcpu; OUT uint8 link_bits @16; 24 bytes
EVTCHN_INIT_CONTROL_SIZE = 24
evtchn_expand_array = struct.Struct("<Q")  # array_gfn
evtchn_set_priority = struct.Struct("<II")  # port, priority

_STATUS = {ECS.FREE: EvtchnStat.EVTCHNSTAT_closed, ECS.RESERVED: EvtchnStat.EVTCHNSTAT_closed,
           ECS.UNBOUND: EvtchnStat.EVTCHNSTAT_unbound, ECS.INTERDOMAIN: EvtchnStat.EVTCHNSTAT_interdomain,
           ECS.PIRQ: EvtchnStat.EVTCHNSTAT_pirq, ECS.VIRQ: EvtchnStat.EVTCHNSTAT_virq,
           ECS.IPI: EvtchnStat.EVTCHNSTAT_ipi}


def _as_int(v: int) -> int:
    v &= 0xFFFFFFFF
    return v - (1 << 32) if v >> 31 else v


def _port(ev: Events, port: int) -> int:
    """evtchn_get_port: allocate ``port`` (or the first free one for 0); a port or -errno."""
    st = ev.st
    if port != 0:
        return st.allocate_port(port, ev.is_busy) or port
    return st.get_free_port(ev.is_busy)


def _copy_back(ctx: HypercallContext, arg: int, raw: bytes, layout: struct.Struct, values: tuple, off: int = 0,
               ) -> None:
    out = bytearray(raw)
    layout.pack_into(out, off, *values)
    ctx.mem.copy_to_guest(arg, bytes(out))


# -- the sub-ops ------------------------------------------------------------------------------------
def alloc_unbound(ctx: HypercallContext, ev: Events, dom: int, remote_dom: int) -> int:
    d = ctx.find_domain(dom)
    if d is None:
        return -Errno.ESRCH
    if d is not ctx.domain:
        # a port is allocated in the other domain's table, then XSM_TARGET decides; the model keeps
        # no table for the idle observer dom0 a domU runs beside
        return -Errno.EPERM if not ctx.domain.privileged else -Errno.ESRCH
    port = _port(ev, 0)
    if port < 0:
        return port
    try:
        if ctx.find_domain(remote_dom) is None:  # silo_evtchn_unbound looks the remote domain up
            return -Errno.ESRCH
        chn = ev.st.channels[port]
        chn.state = ECS.UNBOUND
        chn.remote_dom = d.domid if remote_dom == DOMID_SELF else remote_dom
        chn.priority = EVTCHN_FIFO_PRIORITY_DEFAULT  # evtchn_port_init
        return port
    finally:
        ev.st.check_free_port(port)


def bind_interdomain(ctx: HypercallContext, ev: Events, remote_dom: int, remote_port: int) -> int:
    ld = ctx.domain
    rd = ctx.find_domain(remote_dom)
    if rd is None:
        return -Errno.ESRCH
    lport = _port(ev, 0)
    if lport < 0:
        return lport
    try:
        if rd is not ld:
            return -Errno.EINVAL  # the other domain (an idle dom0) has no unbound port for us
        rchn = ev.st.get(remote_port)
        if rchn is None or rchn.state != ECS.UNBOUND or rchn.remote_dom != ld.domid:
            return -Errno.EINVAL
        lchn = ev.st.channels[lport]
        lchn.state, lchn.remote_dom, lchn.remote_port = ECS.INTERDOMAIN, rd.domid, remote_port
        lchn.priority = EVTCHN_FIFO_PRIORITY_DEFAULT
        rchn.state, rchn.remote_dom, rchn.remote_port = ECS.INTERDOMAIN, ld.domid, lport
        ev.set_pending(lchn)  # notifications lost on the unbound remote port are made up for
        return lport
    finally:
        ev.st.check_free_port(lport)


def bind_virq(ctx: HypercallContext, ev: Events, virq: int, vcpu: int) -> int:
    virq, vcpu = _as_int(virq), _as_int(vcpu)
    if not 0 <= virq < NR_VIRQS:
        return -Errno.EINVAL
    if virq_is_global(virq) and vcpu != 0:
        return -Errno.EINVAL
    if vcpu != 0:
        return -Errno.ENOENT
    if ev.st.virq_to_evtchn[virq]:
        return -Errno.EEXIST
    port = _port(ev, 0)
    if port < 0:
        return port
    chn = ev.st.channels[port]
    chn.state, chn.notify_vcpu_id, chn.virq = ECS.VIRQ, vcpu, virq
    chn.priority = EVTCHN_FIFO_PRIORITY_DEFAULT
    ev.st.virq_to_evtchn[virq] = port
    return port


def bind_pirq(ctx: HypercallContext, ev: Events, pirq: int) -> int:
    """Arm domains are HVM: no pirq_access_permitted check, no pirq_guest_bind."""
    if pirq >= NR_PIRQS:
        return -Errno.EINVAL
    if ev.st.pirq_to_evtchn.get(pirq):
        return -Errno.EEXIST
    port = ev.st.get_free_port(ev.is_busy)
    if port < 0:
        return port
    chn = ev.st.channels[port]
    chn.state, chn.pirq = ECS.PIRQ, pirq
    chn.priority = EVTCHN_FIFO_PRIORITY_DEFAULT
    ev.st.pirq_to_evtchn[pirq] = port
    return port


def bind_ipi(ctx: HypercallContext, ev: Events, vcpu: int) -> int:
    if vcpu != 0:
        return -Errno.ENOENT
    port = ev.st.get_free_port(ev.is_busy)
    if port < 0:
        return port
    chn = ev.st.channels[port]
    chn.state, chn.notify_vcpu_id = ECS.IPI, vcpu
    chn.priority = EVTCHN_FIFO_PRIORITY_DEFAULT
    return port


def close(ctx: HypercallContext, ev: Events, port: int) -> int:
    """evtchn_close(d, port, guest=1)."""
    chn = ev.st.get(port)
    if chn is None or chn.state in (ECS.FREE, ECS.RESERVED):
        return -Errno.EINVAL
    if chn.state == ECS.PIRQ:
        ev.st.pirq_to_evtchn.pop(chn.pirq, None)
    elif chn.state == ECS.VIRQ:
        ev.st.virq_to_evtchn[chn.virq] = 0
    elif chn.state == ECS.INTERDOMAIN:
        # loopback: the other end (a port of this same domain) goes back to unbound
        other = ev.st.channels[chn.remote_port]
        ev.free(chn)
        other.state, other.remote_dom = ECS.UNBOUND, ctx.domain.domid
        return 0
    ev.free(chn)
    return 0


def send(ctx: HypercallContext, ev: Events, port: int) -> int:
    chn = ev.st.get(port)
    if chn is None:
        return -Errno.EINVAL
    if chn.state == ECS.INTERDOMAIN:
        ev.set_pending(ev.st.channels[chn.remote_port])
    elif chn.state == ECS.IPI:
        ev.set_pending(chn)
    elif chn.state != ECS.UNBOUND:  # an unbound port drops the notification silently
        return -Errno.EINVAL
    return 0


def status(ctx: HypercallContext, ev: Events, dom: int, port: int, u: bytes) -> tuple[int, int, int, bytes]:
    """(rc, status, vcpu, union) of evtchn_status."""
    d = ctx.find_domain(dom)
    if d is None:
        return -Errno.ESRCH, 0, 0, u
    if d is not ctx.domain:  # the other domain's table (one bucket), then XSM_TARGET
        return (-Errno.EINVAL if not 0 <= _as_int(port) < 64 else -Errno.EPERM), 0, 0, u
    chn = ev.st.get(_as_int(port)) if _as_int(port) >= 0 else None
    if chn is None:
        return -Errno.EINVAL, 0, 0, u
    out = bytearray(u)
    if chn.state == ECS.UNBOUND:
        struct.pack_into("<H", out, 0, chn.remote_dom)
    elif chn.state == ECS.INTERDOMAIN:
        struct.pack_into("<H2xI", out, 0, chn.remote_dom, chn.remote_port)
    elif chn.state == ECS.PIRQ:
        struct.pack_into("<I", out, 0, chn.pirq)
    elif chn.state == ECS.VIRQ:
        struct.pack_into("<I", out, 0, chn.virq)
    return 0, _STATUS[chn.state], chn.notify_vcpu_id, bytes(out)


def bind_vcpu(ctx: HypercallContext, ev: Events, port: int, vcpu: int) -> int:
    if vcpu != 0:
        return -Errno.ENOENT
    chn = ev.st.get(port)
    if chn is None:
        return -Errno.EINVAL
    if chn.state == ECS.VIRQ:
        if not virq_is_global(chn.virq):
            return -Errno.EINVAL
    elif chn.state not in (ECS.UNBOUND, ECS.INTERDOMAIN, ECS.PIRQ):
        return -Errno.EINVAL
    chn.notify_vcpu_id = vcpu
    return 0


def unmask(ctx: HypercallContext, ev: Events, port: int) -> int:
    chn = ev.st.get(port)
    if chn is None:
        return -Errno.EINVAL
    ev.unmask(chn)
    return 0


def reset(ctx: HypercallContext, ev: Events, dom: int, resuming: bool) -> int:
    """EVTCHNOP_reset / reset_cont: never preempted in the model, so reset_cont finds no reset
    in progress (-EBUSY)."""
    d = ctx.find_domain(dom)
    if d is None:
        return -Errno.ESRCH
    if d is not ctx.domain:
        return -Errno.EPERM if not ctx.domain.privileged else -Errno.EINVAL  # XSM_TARGET; not paused
    st = ev.st
    i = st.next_evtchn if resuming else int(not st.next_evtchn)
    if not i:
        return -Errno.EBUSY
    while st.port_is_valid(i) and st.has_active():
        close(ctx, ev, i)
        i += 1
    st.next_evtchn = 0
    if st.fifo is not None:  # back to the 2-level ABI
        st.fifo = None
    return 0


def init_control(ctx: HypercallContext, ev: Events, gfn: int, offset: int, vcpu: int) -> int:
    if vcpu != 0:
        return -Errno.ENOENT
    if offset > PAGE_SIZE - EVTCHN_FIFO_CONTROL_BLOCK_SIZE or offset & 7:
        return -Errno.EINVAL
    st = ev.st
    if st.fifo is not None:
        return -Errno.EINVAL  # map_control_block: vCPU0 already has one
    if not guest_page_ok(ctx, gfn):
        return -Errno.EINVAL  # map_guest_page; evtchn_fifo_destroy undoes the setup
    prev = st.max_evtchns()
    pending = [p for p in range(1, min(prev, st.valid_evtchns)) if ev._pending().test(p)]
    st.fifo = Fifo(control_gpa=(gfn << 12) + offset)
    for chn in st.channels[1:prev]:  # setup_ports
        chn.priority = EVTCHN_FIFO_PRIORITY_DEFAULT
    for p in pending:
        st.channels[p].pending = True
    return 0


def expand_array(ctx: HypercallContext, ev: Events, gfn: int) -> int:
    fifo = ev.st.fifo
    if fifo is None:
        return -Errno.EOPNOTSUPP
    if len(fifo.event_array) >= EVTCHN_FIFO_MAX_EVENT_ARRAY_PAGES:
        return -Errno.ENOSPC
    if not guest_page_ok(ctx, gfn):
        return -Errno.EINVAL
    first = fifo.num_evtchns
    fifo.event_array.append(gfn)
    for port in range(first, fifo.num_evtchns):  # re-raise events pending while the page was missing
        chn = ev.st.get(port)
        if chn is None:
            break
        if chn.pending:
            ev.set_pending(chn)
    return 0


def set_priority(ctx: HypercallContext, ev: Events, port: int, priority: int) -> int:
    chn = ev.st.get(port)
    if chn is None:
        return -Errno.EINVAL
    if ev.st.fifo is None:
        return -Errno.ENOSYS  # the 2-level ABI has no set_priority
    if not chn.usable:
        return -Errno.EACCES
    if priority > EVTCHN_FIFO_PRIORITY_MIN:
        return -Errno.EINVAL
    chn.priority = priority
    return 0


# -- the hypercall ----------------------------------------------------------------------------------
def do_event_channel_op(ctx: HypercallContext, cmd: int, arg: int) -> int:
    ev = Events(ctx.domain, ctx.mem)
    cmd = _as_int(cmd)

    def read(layout: struct.Struct, size: int | None = None) -> tuple[bytes, tuple]:
        raw = ctx.mem.copy_from_guest(arg, size or layout.size)
        return raw, layout.unpack_from(raw)

    if cmd == EvtchnOp.EVTCHNOP_alloc_unbound:
        raw, (dom, remote_dom, _) = read(evtchn_alloc_unbound)
        rc = alloc_unbound(ctx, ev, dom, remote_dom)
        return _out(ctx, arg, raw, rc, evtchn_alloc_unbound, (dom, remote_dom, rc))
    if cmd == EvtchnOp.EVTCHNOP_bind_interdomain:
        raw, (rdom, rport, _) = read(evtchn_bind_interdomain)
        rc = bind_interdomain(ctx, ev, rdom, rport)
        return _out(ctx, arg, raw, rc, evtchn_bind_interdomain, (rdom, rport, rc))
    if cmd == EvtchnOp.EVTCHNOP_bind_virq:
        raw, (virq, vcpu, _) = read(evtchn_bind_virq)
        rc = bind_virq(ctx, ev, virq, vcpu)
        return _out(ctx, arg, raw, rc, evtchn_bind_virq, (virq, vcpu, rc))
    if cmd == EvtchnOp.EVTCHNOP_bind_ipi:
        raw, (vcpu, _) = read(evtchn_bind_ipi)
        rc = bind_ipi(ctx, ev, vcpu)
        return _out(ctx, arg, raw, rc, evtchn_bind_ipi, (vcpu, rc))
    if cmd == EvtchnOp.EVTCHNOP_bind_pirq:
        raw, (pirq, flags, _) = read(evtchn_bind_pirq)
        rc = bind_pirq(ctx, ev, pirq)
        return _out(ctx, arg, raw, rc, evtchn_bind_pirq, (pirq, flags, rc))
    if cmd in (EvtchnOp.EVTCHNOP_close, EvtchnOp.EVTCHNOP_send, EvtchnOp.EVTCHNOP_unmask):
        _, (port,) = read(evtchn_port_arg)
        fn = {EvtchnOp.EVTCHNOP_close: close, EvtchnOp.EVTCHNOP_send: send, EvtchnOp.EVTCHNOP_unmask: unmask}[cmd]
        return fn(ctx, ev, port)
    if cmd == EvtchnOp.EVTCHNOP_status:
        raw, (dom, port, _, _, u) = read(evtchn_status)
        rc, stat, vcpu, u = status(ctx, ev, dom, port, u)
        if rc == 0:
            ctx.mem.copy_to_guest(arg, evtchn_status.pack(dom, port, stat, vcpu, u))
            ctx.notes.append(f"status={EvtchnStat(stat).name[len('EVTCHNSTAT_'):]}, vcpu={vcpu}")
        return rc
    if cmd == EvtchnOp.EVTCHNOP_bind_vcpu:
        _, (port, vcpu) = read(evtchn_bind_vcpu)
        return bind_vcpu(ctx, ev, port, vcpu)
    if cmd in (EvtchnOp.EVTCHNOP_reset, EvtchnOp.EVTCHNOP_reset_cont):
        _, (dom,) = read(evtchn_reset)
        return reset(ctx, ev, dom, cmd == EvtchnOp.EVTCHNOP_reset_cont)
    if cmd == EvtchnOp.EVTCHNOP_init_control:
        raw, (gfn, offset, vcpu) = read(evtchn_init_control, EVTCHN_INIT_CONTROL_SIZE)
        rc = init_control(ctx, ev, gfn, offset, vcpu)
        if rc == 0:
            out = bytearray(raw)
            out[16] = EVTCHN_FIFO_LINK_BITS
            ctx.mem.copy_to_guest(arg, bytes(out))
            ctx.notes.append(f"link_bits={EVTCHN_FIFO_LINK_BITS}")
        return rc
    if cmd == EvtchnOp.EVTCHNOP_expand_array:
        _, (gfn,) = read(evtchn_expand_array)
        return expand_array(ctx, ev, gfn)
    if cmd == EvtchnOp.EVTCHNOP_set_priority:
        _, (port, priority) = read(evtchn_set_priority)
        return set_priority(ctx, ev, port, priority)
    return -Errno.ENOSYS


def _out(ctx: HypercallContext, arg: int, raw: bytes, rc: int, layout: struct.Struct, values: tuple) -> int:
    """A bind/alloc result: a port (>= 0) is written back into the struct and the call answers 0."""
    if rc < 0:
        return rc
    _copy_back(ctx, arg, raw, layout, values)
    ctx.notes.append(f"port={rc}")
    return 0


def channel(ctx: HypercallContext, port: int) -> Channel | None:
    return Events(ctx.domain, ctx.mem).st.get(port)


def evtchn_port_poll(ctx: HypercallContext, port: int) -> int:
    """For SCHEDOP_poll: -EINVAL for an invalid port, else 1 if the port is pending, else 0."""
    return Events(ctx.domain, ctx.mem).poll(port)


HANDLER = Handler(Hypercall.event_channel_op, do_event_channel_op, EvtchnOp)
