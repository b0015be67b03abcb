"""do_hvm_op (xen/arch/arm/hvm.c): HVMOP_set_param / get_param with Arm's permission rules."""
from __future__ import annotations

import struct
from enum import IntEnum

from ...abi.errno import Errno
from ...abi.hypercalls import Hypercall
from ..context import HypercallContext
from . import Handler

xen_hvm_param = struct.Struct("<HxxIQ")  # domid_t domid; uint16 pad; uint32 index; uint64 value


class HvmOp(IntEnum):
    HVMOP_set_param = 0
    HVMOP_get_param = 1
    HVMOP_guest_request_vm_event = 24


HVM_PARAM_CALLBACK_IRQ, HVM_PARAM_STORE_PFN, HVM_PARAM_STORE_EVTCHN = 0, 1, 2
HVM_PARAM_CONSOLE_PFN, HVM_PARAM_CONSOLE_EVTCHN, HVM_PARAM_MONITOR_RING_PFN = 17, 18, 28
_SHARED = {HVM_PARAM_CALLBACK_IRQ, HVM_PARAM_STORE_PFN, HVM_PARAM_STORE_EVTCHN, HVM_PARAM_CONSOLE_PFN,
           HVM_PARAM_CONSOLE_EVTCHN}


def _allow_set(ctx: HypercallContext, d, index: int) -> int:
    if index in _SHARED or index == HVM_PARAM_MONITOR_RING_PFN:
        return -Errno.EPERM if d is ctx.domain else 0
    return -Errno.EINVAL


def _allow_get(ctx: HypercallContext, d, index: int) -> int:
    if index in _SHARED:
        return 0
    if index == HVM_PARAM_MONITOR_RING_PFN:
        return -Errno.EPERM if d is ctx.domain else 0
    return -Errno.EINVAL


def do_hvm_op(ctx: HypercallContext, op: int, arg: int) -> int:
    if op in (HvmOp.HVMOP_set_param, HvmOp.HVMOP_get_param):
        domid, index, value = ctx.read_struct(arg, xen_hvm_param)
        d = ctx.find_domain(domid)
        if d is None:
            return -Errno.ESRCH
        if d is not ctx.domain and not ctx.domain.privileged:  # XSM_TARGET
            return -Errno.EPERM
        if op == HvmOp.HVMOP_set_param:
            rc = _allow_set(ctx, d, index)
            if rc == 0:
                d.hvm_params[index] = value
            return rc
        rc = _allow_get(ctx, d, index)
        if rc:
            return rc
        ctx.mem.copy_to_guest(arg, xen_hvm_param.pack(domid, index, d.hvm_params.get(index, 0)))
        return 0
    if op == HvmOp.HVMOP_guest_request_vm_event:
        return 0 if arg == 0 else -Errno.EINVAL
    return -Errno.ENOSYS


HANDLER = Handler(Hypercall.hvm_op, do_hvm_op, HvmOp)
