"""The shared_info page and vcpu_info (xen/include/public/xen.h, Arm layout).

Xen allocates a domain's shared_info as a xenheap page. Until the guest maps it with
``XENMEM_add_to_physmap(XENMAPSPACE_shared_info)`` only Xen sees it: the model keeps it in a host
bytearray. Once mapped at a GFN that is guest RAM in the model, its contents are copied there and
every later read and write goes to guest RAM, so the guest's own writes (masking ports, clearing
pending bits) are what Xen sees, as with the real shared page. Mapped at a GFN the model has no RAM
for, the page stays in the host bytearray (the guest cannot reach it; see the module notes in
memory_op.py).

vcpu_info of vCPU0 is ``shared_info.vcpu_info[0]`` until VCPUOP_register_vcpu_info moves it to a
guest-physical address (``Domain.vcpu_info``).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .context import GuestMemory
    from .domain import Domain

PAGE_SIZE = 4096
SHARED_INFO_SIZE = 1088
VCPU_INFO_SIZE = 48
#: offsets in struct shared_info (Arm: xen_ulong_t is 64-bit, MAX_VIRT_CPUS vcpu_info = 1)
EVTCHN_PENDING = 48
EVTCHN_MASK = 560
WC_VERSION = 1072
WC_SEC = 1076
WC_NSEC = 1080
WC_SEC_HI = 1084
#: offsets in struct vcpu_info
UPCALL_PENDING = 0
PENDING_SEL = 8
#: the 2-level ABI's word: xen_ulong_t (64 bits on arm32 and arm64)
BITS_PER_EVTCHN_WORD = 64


class SharedInfo:
    """One domain's shared_info page, wherever it currently lives."""

    def __init__(self) -> None:
        self.page = bytearray(PAGE_SIZE)
        #: GFN the guest mapped it at (page_get_xenheap_gfn), or None
        self.gfn: int | None = None
        #: whether the mapping is backed by model guest RAM (else the host bytearray stays in use)
        self._in_ram = False

    # -- mapping -------------------------------------------------------------------------------------
    def map(self, mem: GuestMemory, gfn: int) -> None:
        self.gfn = gfn
        self._in_ram = mem.is_ram(gfn << 12, PAGE_SIZE)
        if self._in_ram:
            mem.write_phys(gfn << 12, bytes(self.page))

    def unmap(self, mem: GuestMemory) -> None:
        if self.gfn is not None and self._in_ram:
            self.page[:] = mem.read_phys(self.gfn << 12, PAGE_SIZE)
        self.gfn = None
        self._in_ram = False

    # -- byte access ---------------------------------------------------------------------------------
    def read(self, mem: GuestMemory, off: int, length: int) -> bytes:
        if self._in_ram:
            return mem.read_phys((self.gfn << 12) + off, length)  # type: ignore[operator]
        return bytes(self.page[off:off + length])

    def write(self, mem: GuestMemory, off: int, data: bytes) -> None:
        if self._in_ram:
            mem.write_phys((self.gfn << 12) + off, data)  # type: ignore[operator]
        else:
            self.page[off:off + len(data)] = data

    def contents(self, mem: GuestMemory) -> bytes:
        return self.read(mem, 0, SHARED_INFO_SIZE)


class BitArea:
    """Bit operations on little-endian xen_ulong_t arrays, as Xen's guest_*_bit do on Arm."""

    def __init__(self, read, write, base: int):
        self._read, self._write, self.base = read, write, base

    def test(self, bit: int) -> bool:
        return bool(self._read(self.base + bit // 8, 1)[0] >> (bit % 8) & 1)

    def set(self, bit: int, value: bool = True) -> bool:
        """Set (or clear) ``bit``; answer its old value."""
        addr = self.base + bit // 8
        byte = self._read(addr, 1)[0]
        old = bool(byte >> (bit % 8) & 1)
        new = byte | (1 << bit % 8) if value else byte & ~(1 << bit % 8)
        if new != byte:
            self._write(addr, bytes([new]))
        return old


def shared_bits(d: Domain, mem: GuestMemory, base: int) -> BitArea:
    return BitArea(lambda off, n: d.shared_info.read(mem, off, n),
                   lambda off, data: d.shared_info.write(mem, off, data), base)


def vcpu_info_bits(d: Domain, mem: GuestMemory, base: int) -> BitArea:
    """Bits of vCPU0's vcpu_info, in shared_info or where VCPUOP_register_vcpu_info put it."""
    if d.vcpu_info is None:
        return shared_bits(d, mem, base)
    gpa = d.vcpu_info
    return BitArea(lambda off, n: mem.read_phys(gpa + off, n), lambda off, data: mem.write_phys(gpa + off, data), base)


def vcpu_info_bytes(d: Domain, mem: GuestMemory) -> bytes:
    if d.vcpu_info is None:
        return d.shared_info.read(mem, 0, VCPU_INFO_SIZE)
    return mem.read_phys(d.vcpu_info, VCPU_INFO_SIZE)


def upcall_pending(d: Domain, mem: GuestMemory) -> bool:
    """vcpu_info.evtchn_upcall_pending of vCPU0: the level of the event-channel PPI."""
    return vcpu_info_bytes(d, mem)[UPCALL_PENDING] != 0


def moved_vcpu_info(d: Domain, mem: GuestMemory) -> bytes:
    """What map_vcpu_info (xen/common/domain.c) writes at the new vcpu_info: a copy of the old one,
    then evtchn_pending_sel = ~0 and evtchn_upcall_pending = 1 ("mark everything pending")."""
    old = bytearray(vcpu_info_bytes(d, mem))
    old[PENDING_SEL:PENDING_SEL + 8] = b"\xff" * 8
    old[UPCALL_PENDING] |= 1
    return bytes(old)
