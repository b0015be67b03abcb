"""What a hypercall handler may touch: guest memory through copy_{from,to}_guest, its domain and
vCPU, the console and Xen's log. The trap layer implements :class:`GuestMemory`."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Protocol

if TYPE_CHECKING:
    from ..arch import Arch
    from .build import XenBuild
    from .domain import Domain


class GuestFault(Exception):
    """A guest address that does not translate to guest RAM. Handlers let it propagate (the
    dispatcher answers -EFAULT, as Xen's copy_*_guest failures do) or catch it where Xen answers
    something else. Never reaches the user."""

    def __init__(self, addr: int):
        super().__init__(f"guest address {addr:#x} is not RAM")
        self.addr = addr


class GuestMemory(Protocol):
    """Guest memory as hypercalls reach it: copies take guest virtual addresses (handles); the
    *_phys calls take guest-physical addresses (GFN-based interfaces such as vcpu_info)."""

    def copy_from_guest(self, addr: int, length: int) -> bytes: ...

    def copy_to_guest(self, addr: int, data: bytes) -> None: ...

    def is_ram(self, gpa: int, length: int) -> bool: ...

    def read_phys(self, gpa: int, length: int) -> bytes: ...

    def write_phys(self, gpa: int, data: bytes) -> None: ...


class ConsoleInput(Protocol):
    """Xen's serial console (xenhvc's stdin). Sources may also have ``eof`` (no more input will
    come) and ``wait(timeout)`` (block until input may be there); without them they count as
    closed."""

    def read(self, limit: int) -> bytes:
        """Up to ``limit`` bytes typed at Xen's serial console, without blocking."""
        ...


class VcpuControl(Protocol):
    def enable_event_delivery(self) -> None:
        """Unmask IRQs in the guest's PSTATE/CPSR (local_event_delivery_enable)."""
        ...

    def events_pending(self) -> bool: ...


class NoInput:
    def read(self, limit: int) -> bytes:
        return b""


@dataclass
class HypercallContext:
    """The narrow view a handler gets of the machine."""

    arch: Arch
    build: XenBuild
    mem: GuestMemory
    domain: Domain
    console_out: Callable[[bytes], None]
    console_in: ConsoleInput
    log: Callable[[str], None]  # Xen's own log lines ("(XEN) ...")
    vcpu: VcpuControl
    now_ns: Callable[[], int]  # Xen system time
    find_domain: Callable[[int], "Domain | None"]
    #: call_handlers_arm for a nested call (multicall): (nr, raw args) -> result
    call: Callable[[int, tuple[int, ...]], int]
    warn: Callable[[str], None]  # xenhvc's own warnings
    memory_pages: Callable[[], int]  # the domain's RAM in pages (domain_tot_pages)
    find_domain_at_or_after: Callable[[int], "Domain | None"]
    #: hypercall_preempt_check(): True when a long-running handler must stop and continue later
    preempt_check: Callable[[], bool] = lambda: False
    #: hypercall_create_continuation(op, *args): returns what x0 will hold (the first argument)
    create_continuation: Callable[..., int] = lambda op, *args: 0
    #: the continuation arguments a sub-call of a multicall left, taken once
    take_mc_continuation: Callable[[], "tuple[int, ...] | None"] = lambda: None
    clear_mc_continuation: Callable[[], None] = lambda: None
    #: decoded outputs a handler reports for the trace (e.g. ``port=5``)
    notes: list[str] = field(default_factory=list)

    def read_struct(self, addr: int, layout) -> tuple:
        """copy_from_guest of one struct, unpacked."""
        return layout.unpack(self.mem.copy_from_guest(addr, layout.size))

    def enable_event_delivery(self) -> None:
        self.vcpu.enable_event_delivery()

    def events_pending(self) -> bool:
        return self.vcpu.events_pending()
