"""do_vcpu_op for Arm (xen/arch/arm/domain.c) and the two sub-ops it passes to common_vcpu_op
(xen/common/domain.c): register_vcpu_info (map_vcpu_info) and register_runstate_memory_area."""
from __future__ import annotations

import contextlib
import struct
from enum import IntEnum

from ...abi.errno import Errno
from ...abi.hypercalls import Hypercall
from ..context import GuestFault, HypercallContext
from ..shared_info import moved_vcpu_info, upcall_pending
from . import Handler

vcpu_register_vcpu_info = struct.Struct("<QII")  # uint64 mfn (a GFN on Arm); uint32 offset; uint32 rsvd
vcpu_register_runstate_memory_area = struct.Struct("<Q")  # guest handle (a virtual address)
VCPU_INFO_SIZE = 48
VCPU_INFO_ALIGN = 8
RUNSTATE_INFO_SIZE = 48
PAGE_SIZE = 4096


class VcpuOp(IntEnum):
    VCPUOP_initialise = 0
    VCPUOP_up = 1
    VCPUOP_down = 2
    VCPUOP_is_up = 3
    VCPUOP_get_runstate_info = 4
    VCPUOP_register_runstate_memory_area = 5
    VCPUOP_set_periodic_timer = 6
    VCPUOP_stop_periodic_timer = 7
    VCPUOP_set_singleshot_timer = 8
    VCPUOP_stop_singleshot_timer = 9
    VCPUOP_register_vcpu_info = 10
    VCPUOP_send_nmi = 11
    VCPUOP_get_physid = 12
    VCPUOP_register_vcpu_time_memory_area = 13


def map_vcpu_info(ctx: HypercallContext, gfn: int, offset: int) -> int:
    d = ctx.domain
    if offset > PAGE_SIZE - VCPU_INFO_SIZE or offset & (VCPU_INFO_ALIGN - 1):
        return -Errno.ENXIO
    if d.vcpu_info is not None:
        return -Errno.EINVAL
    gpa = (gfn << 12) + offset
    if gfn >= 1 << 52 or not ctx.mem.is_ram(gfn << 12, PAGE_SIZE):
        return -Errno.EINVAL  # get_page_from_gfn found no RAM page
    # the old contents move over, then everything is marked pending so no event is lost;
    # vcpu_mark_events_pending injects the event-channel PPI if evtchn_upcall_pending was clear
    edge = not upcall_pending(d, ctx.mem)
    ctx.mem.write_phys(gpa, moved_vcpu_info(d, ctx.mem))
    d.vcpu_info = gpa
    if edge:
        d.evtchn_irq_raised += 1
    return 0


def do_vcpu_op(ctx: HypercallContext, cmd: int, vcpuid: int, arg: int) -> int:
    if vcpuid != 0:  # one vCPU per domain
        return -Errno.ENOENT
    if cmd == VcpuOp.VCPUOP_register_vcpu_info:
        gfn, offset, _ = ctx.read_struct(arg, vcpu_register_vcpu_info)
        return map_vcpu_info(ctx, gfn, offset)
    if cmd == VcpuOp.VCPUOP_register_runstate_memory_area:
        (addr,) = ctx.read_struct(arg, vcpu_register_runstate_memory_area)
        ctx.domain.runstate_area = addr
        with contextlib.suppress(GuestFault):  # __copy_to_guest of the current runstate; unchecked
            ctx.mem.copy_to_guest(addr, ctx.domain.runstate_bytes(ctx.now_ns()))
        return 0
    return -Errno.EINVAL


HANDLER = Handler(Hypercall.vcpu_op, do_vcpu_op, VcpuOp)
