from __future__ import annotations

from pathlib import Path

import pytest

from xenhvc.arch import aarch32, aarch64
from xenhvc.hypervisor.build import DEBIAN_4_17
from xenhvc.hypervisor.context import GuestFault, NoInput
from xenhvc.hypervisor.domain import make_domain
from xenhvc.hypervisor.xen import Xen

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
PROBES = ROOT / "guests" / "probe"


class FakeMemory:
    """Guest RAM as a bytearray at ``base``; anything else faults."""

    def __init__(self, base: int = 0x40000000, size: int = 0x10000):
        self.base, self.ram = base, bytearray(size)

    def _off(self, addr: int, length: int) -> int:
        if not (self.base <= addr and addr + length <= self.base + len(self.ram)):
            raise GuestFault(addr)
        return addr - self.base

    def copy_from_guest(self, addr: int, length: int) -> bytes:
        off = self._off(addr, length)
        return bytes(self.ram[off:off + length])

    def copy_to_guest(self, addr: int, data: bytes) -> None:
        off = self._off(addr, len(data))
        self.ram[off:off + len(data)] = data

    def is_ram(self, gpa: int, length: int) -> bool:
        return self.base <= gpa and gpa + max(length, 1) <= self.base + len(self.ram)

    read_phys = copy_from_guest
    write_phys = copy_to_guest


class FakeVcpu:
    def __init__(self):
        self.irqs_unmasked = False

    def enable_event_delivery(self) -> None:
        self.irqs_unmasked = True

    def events_pending(self) -> bool:
        return False


class Model:
    """A Xen model with fake memory, for handler-level tests."""

    def __init__(self, domid: int = 0, arch=aarch64.ARCH, debug: bool = False, console_in=None):
        from dataclasses import replace

        self.mem = FakeMemory()
        self.vcpu = FakeVcpu()
        self.console = bytearray()
        self.log: list[str] = []
        self.xen = Xen(arch, replace(DEBIAN_4_17, debug=debug), make_domain(domid), self.mem, self.vcpu,
                       self.console.extend, console_in or NoInput(), self.log.append, tracing=True)
        self.buf = self.mem.base + 0x1000

    def call(self, nr: int, *args: int) -> int:
        return self.xen.hypercall(nr, tuple(args) + (0,) * (5 - len(args)))

    def put(self, addr: int, data: bytes) -> int:
        self.mem.copy_to_guest(addr, data)
        return addr

    def get(self, addr: int, length: int) -> bytes:
        return self.mem.copy_from_guest(addr, length)


@pytest.fixture
def dom0() -> Model:
    return Model(0)


@pytest.fixture
def domu() -> Model:
    return Model(1)


@pytest.fixture
def dom0_32() -> Model:
    return Model(0, aarch32.ARCH)
