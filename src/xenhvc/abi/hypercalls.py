"""Hypercall numbers (xen/include/public/xen.h) and the Xen 4.17 Arm hypercall table.

The Arm table is the ``arm`` column of xen/include/hypercall-defs.c at RELEASE-4.17.7 as built by
Debian's ``xen-hypervisor-4.17-arm64`` (CONFIG_GRANT_TABLE=y, CONFIG_HYPFS=y, CONFIG_XSM=y,
CONFIG_ARGO and CONFIG_IOREQ_SERVER unset): that is the hypervisor the oracle runs.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum, IntEnum


class Hypercall(IntEnum):
    """``__HYPERVISOR_<name>``."""

    set_trap_table = 0
    mmu_update = 1
    set_gdt = 2
    stack_switch = 3
    set_callbacks = 4
    fpu_taskswitch = 5
    sched_op_compat = 6
    platform_op = 7
    set_debugreg = 8
    get_debugreg = 9
    update_descriptor = 10
    memory_op = 12
    multicall = 13
    update_va_mapping = 14
    set_timer_op = 15
    event_channel_op_compat = 16
    xen_version = 17
    console_io = 18
    physdev_op_compat = 19
    grant_table_op = 20
    vm_assist = 21
    update_va_mapping_otherdomain = 22
    iret = 23
    vcpu_op = 24
    set_segment_base = 25
    mmuext_op = 26
    xsm_op = 27
    nmi_op = 28
    sched_op = 29
    callback_op = 30
    xenoprof_op = 31
    event_channel_op = 32
    physdev_op = 33
    hvm_op = 34
    sysctl = 35
    domctl = 36
    kexec_op = 37
    tmem_op = 38
    argo_op = 39
    xenpmu_op = 40
    dm_op = 41
    hypfs_op = 42
    arch_0 = 48
    arch_1 = 49
    arch_2 = 50
    arch_3 = 51
    arch_4 = 52
    arch_5 = 53
    arch_6 = 54
    arch_7 = 55


class ArmHandler(Enum):
    """How the 4.17 Arm build answers a number."""

    DO = "do"  # a real handler (do_<name>)
    DEP = "dep"  # do_deprecated_hypercall: logs and returns -ENOSYS
    ABSENT = "absent"  # not in the Arm table: -ENOSYS from the default case


# C parameter types, as hypercall-defs.c declares them. ``int``/``uint`` take the low 32 bits of the
# register; ``ulong`` and pointers take all of it.
INT, UINT, ULONG, PTR = "int", "uint", "ulong", "ptr"


@dataclass(frozen=True)
class HypercallSpec:
    number: Hypercall
    handler: ArmHandler
    params: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return self.number.name

    @property
    def arity(self) -> int:
        """``hypercall_args_arm[nr]``: how many argument registers the call uses."""
        return len(self.params)


def _spec(nr: Hypercall, handler: ArmHandler, *params: str) -> HypercallSpec:
    return HypercallSpec(nr, handler, params)


D, DEP = ArmHandler.DO, ArmHandler.DEP

ARM_TABLE: dict[int, HypercallSpec] = {
    s.number: s
    for s in (
        _spec(Hypercall.sched_op_compat, DEP, INT, ULONG),
        _spec(Hypercall.platform_op, D, PTR),
        _spec(Hypercall.memory_op, D, ULONG, PTR),
        _spec(Hypercall.multicall, D, PTR, UINT),
        _spec(Hypercall.event_channel_op_compat, DEP, PTR),
        _spec(Hypercall.xen_version, D, INT, PTR),
        _spec(Hypercall.console_io, D, UINT, UINT, PTR),
        _spec(Hypercall.physdev_op_compat, DEP, PTR),
        _spec(Hypercall.grant_table_op, D, UINT, PTR, UINT),
        _spec(Hypercall.vm_assist, D, UINT, UINT),
        _spec(Hypercall.vcpu_op, D, INT, UINT, PTR),
        _spec(Hypercall.xsm_op, D, PTR),
        _spec(Hypercall.sched_op, D, INT, PTR),
        _spec(Hypercall.event_channel_op, D, INT, PTR),
        _spec(Hypercall.physdev_op, D, INT, PTR),
        _spec(Hypercall.hvm_op, D, ULONG, PTR),
        _spec(Hypercall.sysctl, D, PTR),
        _spec(Hypercall.domctl, D, PTR),
        _spec(Hypercall.hypfs_op, D, UINT, PTR, ULONG, PTR, ULONG),
    )
}

#: ``ARRAY_SIZE(hypercall_args)``: numbers at or above this never reach a handler.
NR_HYPERCALLS = 43


def spec_for(nr: int) -> HypercallSpec | None:
    """The Arm table row for ``nr``, or None when Xen answers -ENOSYS from its default case."""
    return ARM_TABLE.get(nr)


def hypercall_name(nr: int) -> str:
    try:
        return Hypercall(nr).name
    except ValueError:
        return f"hypercall_{nr}"


def coerce_arg(kind: str, value: int) -> int:
    """The value a handler parameter of C type ``kind`` sees for register contents ``value``."""
    if kind == INT:
        value &= 0xFFFFFFFF
        return value - (1 << 32) if value & 0x80000000 else value
    if kind == UINT:
        return value & 0xFFFFFFFF
    return value
