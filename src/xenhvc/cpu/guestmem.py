"""copy_from_guest / copy_to_guest for hypercall arguments.

Guest handles are guest *virtual* addresses. With the guest's MMU off (every guest this version
runs) they equal guest-physical addresses, and only RAM translates: anything else is a GuestFault,
which the guest sees as -EFAULT. Copies go page by page, as Xen's raw_copy_*_guest does, so a
copy_to_guest that runs off the end of RAM has written the pages before the fault."""
from __future__ import annotations

from unicorn import Uc

from ..errors import NotModelledError
from ..hypervisor.context import GuestFault
from ..loader.place import MemoryBank

PAGE = 4096


class GuestMemory:
    def __init__(self, uc: Uc, bank: MemoryBank, mmu_enabled):
        self.uc = uc
        self.bank = bank
        self._mmu_enabled = mmu_enabled

    def _translate(self, addr: int, length: int) -> int:
        if self._mmu_enabled():
            raise NotModelledError("the guest turned its MMU on: translating guest virtual addresses "
                                   "through its stage-1 tables is not modelled yet")
        if not self.bank.contains(addr, max(length, 1)):
            raise GuestFault(addr if not self.bank.contains(addr) else self.bank.end)
        return addr

    def copy_from_guest(self, addr: int, length: int) -> bytes:
        if length == 0:
            return b""
        return bytes(self.uc.mem_read(self._translate(addr, length), length))

    def copy_to_guest(self, addr: int, data: bytes) -> None:
        if not data:
            return
        try:
            self.uc.mem_write(self._translate(addr, len(data)), data)
        except GuestFault:
            # write the whole pages that do translate, then fail like Xen
            done = 0
            while done < len(data):
                chunk = min(PAGE - ((addr + done) % PAGE), len(data) - done)
                self.uc.mem_write(self._translate(addr + done, chunk), data[done:done + chunk])
                done += chunk
            raise

    def is_ram(self, gpa: int, length: int) -> bool:
        return self.bank.contains(gpa, max(length, 1))

    def read_phys(self, gpa: int, length: int) -> bytes:
        if not self.is_ram(gpa, length):
            raise GuestFault(gpa)
        return bytes(self.uc.mem_read(gpa, length))

    def write_phys(self, gpa: int, data: bytes) -> None:
        if not self.is_ram(gpa, len(data)):
            raise GuestFault(gpa)
        self.uc.mem_write(gpa, data)
