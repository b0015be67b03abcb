"""Domain and vCPU state the hypercalls read and change."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..abi.sched import SHUTDOWN_CODE_INVALID, NR_DOMAIN_WATCHDOG_TIMERS
from .shared_info import SharedInfo

if TYPE_CHECKING:
    from .evtchn import EvtchnState
    from .handlers.memory_op import Physmap


@dataclass
class Watchdog:
    deadline_ns: int


@dataclass
class Domain:
    domid: int
    #: the hardware/control domain (dom0): XSM_PRIV checks pass, console output goes straight out
    privileged: bool
    #: dom0less domUs have d->is_console set (xen/arch/arm/domain_build.c)
    is_console: bool = False
    direct_mapped: bool = False
    handle: bytes = field(default_factory=lambda: bytes(16))
    shutdown_code: int = SHUTDOWN_CODE_INVALID
    #: set once the domain shuts down: the (possibly latched) reason
    shutdown_reason: int | None = None
    watchdogs: list[Watchdog | None] = field(default_factory=lambda: [None] * NR_DOMAIN_WATCHDOG_TIMERS)
    #: vCPU 0 is blocked (SCHEDOP_block / poll) waiting for an event
    blocked: bool = False
    #: SCHEDOP_pin_override is in force
    pin_override: bool = False
    #: VM_ASSIST bits enabled (vm_assist)
    vm_assist: int = 0
    #: d->arch.hvm.params that have been set (absent ones read as 0)
    hvm_params: dict[int, int] = field(default_factory=dict)
    #: guest-physical address of vCPU0's registered vcpu_info, or None (still in shared_info)
    vcpu_info: int | None = None
    #: guest-virtual address of the registered runstate area, or None
    runstate_area: int | None = None
    #: XENPF_settime64: (secs, nsecs, system_time)
    wallclock: tuple[int, int, int] | None = None
    #: a multicall is being processed (_MCSF_in_multicall)
    in_multicall: bool = False
    #: grant table: frames in use, the GFNs where the guest mapped them (XENMEM_add_to_physmap), version
    grant_frames: int = 1
    grant_frame_gfns: dict[int, int] = field(default_factory=dict)
    grant_version: int = 1
    #: grant mappings and pins (grant_table_op.GrantState), created on first map or copy
    grants: "object | None" = None
    #: per-domain line buffer for unprivileged console output (d->pbuf)
    pbuf: bytearray = field(default_factory=bytearray)
    #: the shared_info page (host-side until XENMEM_add_to_physmap maps it; shared_info.py)
    shared_info: SharedInfo = field(default_factory=SharedInfo)
    #: event channels (evtchn.EvtchnState), created on first use by evtchn.evtchn_state
    evtchn: "EvtchnState | None" = None
    #: how many times the event-channel PPI was injected (evtchn_upcall_pending went 0 -> 1)
    evtchn_irq_raised: int = 0
    #: memory accounting and xenheap mappings (memory_op.Physmap), created on first memory_op
    physmap: "Physmap | None" = None

    def runstate_bytes(self, now_ns: int) -> bytes:
        """vcpu_runstate_info of the running vCPU: state running, entered at boot, all time running."""
        import struct

        return struct.pack("<i4xQ4Q", 0, 0, now_ns, 0, 0, 0)

    @property
    def is_shutting_down(self) -> bool:
        return self.shutdown_reason is not None

    def shutdown(self, reason: int) -> None:
        """xen/common/domain.c domain_shutdown: a latched shutdown_code wins over ``reason``."""
        if self.shutdown_code == SHUTDOWN_CODE_INVALID:
            self.shutdown_code = reason & 0xFF
        if self.shutdown_reason is None:
            self.shutdown_reason = self.shutdown_code


def make_domain(domid: int) -> Domain:
    """dom0 is privileged and direct-mapped; any other id is an unprivileged dom0less-style domU."""
    privileged = domid == 0
    handle = bytes(16)  # neither dom0 nor a dom0less domU is given a handle (UUID) by Xen
    d = Domain(domid=domid, privileged=privileged, is_console=not privileged,
               direct_mapped=privileged, handle=handle)
    if privileged:
        # evtchn_allocate (domain_build.c): the event-channel PPI as a CALLBACK_IRQ of type PPI,
        # active-low level; dom0 got IRQ 16 on the oracle
        d.hvm_params[0] = (2 << 56) | (2 << 8) | DOM0_EVTCHN_IRQ
    return d


DOM0_EVTCHN_IRQ = 16
