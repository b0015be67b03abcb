"""Structs behind hypercall pointers, decoded for the trace: ``event_channel_op(EVTCHNOP_alloc_unbound,
{dom=DOMID_SELF, remote_dom=0}) = 0, port=5``. Read before the call (the IN fields); a pointer that
does not translate stays as its address."""
from __future__ import annotations

import struct
from typing import Callable

from ..abi.hypercalls import Hypercall
from ..abi.sched import SchedOp, Shutdown
from ..abi.xen import DOMID_SELF
from .context import GuestFault, HypercallContext


def _domid(v: int) -> str:
    return "DOMID_SELF" if v == DOMID_SELF else str(v)


def _reason(v: int) -> str:
    try:
        return Shutdown(v).name
    except ValueError:
        return str(v)


def _hex(v: int) -> str:
    return hex(v) if v > 9 else str(v)


# (struct layout, ((field name, formatter) ...)), a formatter of None skips the field
Layout = tuple[struct.Struct, tuple[tuple[str, Callable[[int], str] | None], ...]]
_D, _N, _H = _domid, str, _hex

_EVTCHN: dict[int, Layout] = {
    0: (struct.Struct("<H2xI"), (("remote_dom", _D), ("remote_port", _N))),
    1: (struct.Struct("<II"), (("virq", _N), ("vcpu", _N))),
    3: (struct.Struct("<I"), (("port", _N),)),
    4: (struct.Struct("<I"), (("port", _N),)),
    5: (struct.Struct("<H2xI"), (("dom", _D), ("port", _N))),
    6: (struct.Struct("<HH"), (("dom", _D), ("remote_dom", _D))),
    7: (struct.Struct("<I"), (("vcpu", _N),)),
    8: (struct.Struct("<II"), (("port", _N), ("vcpu", _N))),
    9: (struct.Struct("<I"), (("port", _N),)),
    10: (struct.Struct("<H"), (("dom", _D),)),
    11: (struct.Struct("<QII"), (("control_gfn", _H), ("offset", _N), ("vcpu", _N))),
    12: (struct.Struct("<Q"), (("array_gfn", _H),)),
    13: (struct.Struct("<II"), (("port", _N), ("priority", _N))),
}
_RESERVATION: Layout = (struct.Struct("<QQIIH"), (("extent_start", _H), ("nr_extents", _N), ("extent_order", _N),
                                                  ("mem_flags", _H), ("domid", _D)))
_MEMORY: dict[int, Layout] = {
    0: _RESERVATION, 1: _RESERVATION, 6: _RESERVATION,
    3: (struct.Struct("<H"), (("domid", _D),)), 4: (struct.Struct("<H"), (("domid", _D),)),
    14: (struct.Struct("<H"), (("domid", _D),)),
    7: (struct.Struct("<HHIQQ"), (("domid", _D), ("size", None), ("space", _N), ("idx", _H), ("gpfn", _H))),
    15: (struct.Struct("<H6xQ"), (("domid", _D), ("gpfn", _H))),
}
_SCHED: dict[int, Layout] = {
    SchedOp.SCHEDOP_shutdown: (struct.Struct("<I"), (("reason", _reason),)),
    SchedOp.SCHEDOP_shutdown_code: (struct.Struct("<I"), (("reason", _reason),)),
    SchedOp.SCHEDOP_poll: (struct.Struct("<QI4xQ"), (("ports", _H), ("nr_ports", _N), ("timeout", _N))),
    SchedOp.SCHEDOP_remote_shutdown: (struct.Struct("<H2xI"), (("domain_id", _D), ("reason", _reason))),
    SchedOp.SCHEDOP_watchdog: (struct.Struct("<II"), (("id", _N), ("timeout", _N))),
    SchedOp.SCHEDOP_pin_override: (struct.Struct("<i"), (("pcpu", _N),)),
}
_HVM_PARAM: Layout = (struct.Struct("<H2xIQ"), (("domid", _D), ("index", _N), ("value", _H)))
_GNTTAB: dict[int, Layout] = {
    2: (struct.Struct("<H2xI"), (("dom", _D), ("nr_frames", _N))),
    6: (struct.Struct("<H"), (("dom", _D),)),
    8: (struct.Struct("<I"), (("version", _N),)),
    10: (struct.Struct("<H"), (("dom", _D),)),
    12: (struct.Struct("<QHHI"), (("a", _H), ("offset", _N), ("length", _N), ("op", _H))),  # the first entry
}
_VCPU: dict[int, Layout] = {
    10: (struct.Struct("<QI"), (("mfn", _H), ("offset", _N))),
    5: (struct.Struct("<Q"), (("addr", _H),)),
}

#: hypercall -> (index of the pointer argument, sub-op -> layout); the sub-op is argument 0
TABLE: dict[int, tuple[int, dict[int, Layout]]] = {
    Hypercall.event_channel_op: (1, _EVTCHN),
    Hypercall.memory_op: (1, _MEMORY),
    Hypercall.sched_op: (1, _SCHED),
    Hypercall.hvm_op: (1, {0: _HVM_PARAM, 1: _HVM_PARAM}),
    Hypercall.grant_table_op: (1, _GNTTAB),
    Hypercall.vcpu_op: (2, _VCPU),
}


def decode_pointer(ctx: HypercallContext, nr: int, args: tuple[int, ...]) -> tuple[int, str] | None:
    """(argument index, ``{field=value, ...}``) for a struct argument the trace can show, or None."""
    entry = TABLE.get(nr)
    if entry is None or len(args) <= entry[0]:
        return None
    index, layouts = entry
    layout = layouts.get(args[0] & 0x3F if nr == Hypercall.memory_op else args[0])
    if layout is None or args[index] == 0:
        return None
    shape, fields = layout
    try:
        values = shape.unpack(ctx.mem.copy_from_guest(args[index], shape.size))
    except GuestFault:
        return None
    return index, "{" + ", ".join(f"{name}={fmt(v)}" for (name, fmt), v in zip(fields, values) if fmt) + "}"
