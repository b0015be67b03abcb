"""Hypercalls whose Arm 4.17 answers fit in a few lines: vm_assist (xen/common/domain.c),
physdev_op (xen/arch/arm/physdev.c: no CONFIG_HAS_PCI on 4.17 Arm), xsm_op (SILO uses the dummy
module: -ENOSYS)."""
from __future__ import annotations

from ...abi.errno import Errno
from ...abi.hypercalls import Hypercall
from ..context import HypercallContext
from . import Handler

VMASST_CMD_enable, VMASST_CMD_disable = 0, 1
VMASST_TYPE_runstate_update_flag = 5
#: arch_vm_assist_valid_mask on Arm
VM_ASSIST_VALID = 1 << VMASST_TYPE_runstate_update_flag
BITS_PER_LONG = 64


def do_vm_assist(ctx: HypercallContext, cmd: int, vtype: int) -> int:
    if vtype >= BITS_PER_LONG or not (VM_ASSIST_VALID >> vtype) & 1:
        return -Errno.EINVAL
    if cmd == VMASST_CMD_enable:
        ctx.domain.vm_assist |= 1 << vtype
        return 0
    if cmd == VMASST_CMD_disable:
        ctx.domain.vm_assist &= ~(1 << vtype)
        return 0
    return -Errno.ENOSYS


def do_arm_physdev_op(ctx: HypercallContext, cmd: int, arg: int) -> int:
    return -Errno.ENOSYS


def do_xsm_op(ctx: HypercallContext, op: int) -> int:
    return -Errno.ENOSYS


HANDLERS = [
    Handler(Hypercall.vm_assist, do_vm_assist),
    Handler(Hypercall.physdev_op, do_arm_physdev_op),
    Handler(Hypercall.xsm_op, do_xsm_op),
]
