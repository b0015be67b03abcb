"""Hypercall handlers, one module per hypercall, named as Xen names them. Adding a hypercall is one
module here and one row in :data:`xenhvc.abi.hypercalls.ARM_TABLE`."""
from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Callable

from ...abi.hypercalls import Hypercall


@dataclass(frozen=True)
class Handler:
    hypercall: Hypercall
    fn: Callable[..., int]
    #: the enum of the first argument's sub-ops, so traces print names
    subops: type[IntEnum] | None = None
    #: sub-ops whose answer depends on nothing but the arguments and that change nothing, so
    #: the trap layer may answer them again from a memo (cpu/native/hvc.c)
    pure_subops: frozenset[int] = frozenset()


def _collect() -> dict[int, Handler]:
    from . import (console_io, control, deprecated, grant_table_op, hvm_op, hypfs_op, multicall, sched_op, simple,
                   vcpu_op, xen_version)

    from . import event_channel_op, memory_op

    rows = [xen_version.HANDLER, console_io.HANDLER, sched_op.HANDLER, hvm_op.HANDLER, vcpu_op.HANDLER,
            multicall.HANDLER, hypfs_op.HANDLER, grant_table_op.HANDLER, *simple.HANDLERS, *control.HANDLERS, *deprecated.HANDLERS,
            memory_op.HANDLER, event_channel_op.HANDLER]
    return {h.hypercall: h for h in rows}


HANDLERS: dict[int, Handler] = _collect()
