"""copy_from_guest / copy_to_guest for hypercall arguments (xen/arch/arm/guestcopy.c).

Guest handles are guest *virtual* addresses in the calling vCPU's current EL1&0 regime. With the
guest's MMU off they equal guest-physical addresses; with it on they are translated through the
guest's own stage-1 tables (stage1.py), page by page, as Xen's software walk does, and a write
needs stage-1 write permission. Only guest RAM translates: anything else is a GuestFault, which
the guest sees as -EFAULT. A copy_to_guest that runs into a bad page has written the pages before
it, as Xen's does."""
from __future__ import annotations

import ctypes
import mmap
from typing import Callable

from unicorn import UC_PROT_ALL, Uc, UcError

from ..hypervisor.context import GuestFault
from ..loader.place import MemoryBank
from .stage1 import Translation, TranslationFault

PAGE = 4096
#: remembered code-page translations before the memory of them starts again
CODE_PAGES_MAX = 8192


class GuestMemory:
    def __init__(self, uc: Uc, bank: MemoryBank, mmu_enabled: Callable[[], bool],
                 walk: Callable[[Callable[[int, int], int], int], Translation] | None = None,
                 ram: "mmap.mmap | None" = None, code_page_key: Callable[[int], object] | None = None,
                 vfetch: Callable[[int], int | None] | None = None):
        self.uc = uc
        self.bank = bank
        #: the host memory behind guest RAM, when the machine maps it (fast reads)
        self.ram = ram
        self._mmu_enabled = mmu_enabled
        #: the vCPU's stage-1 walk for one VA: walk(read_phys, va) -> Translation
        self._walk = walk
        #: where the translation of a code page may be remembered (the vCPU's code_page_key)
        self._code_page_key = code_page_key
        #: remembered code-page translations: key -> guest-physical page
        self._code_pages: dict[object, int] = {}
        #: reads an instruction word through the vCPU's own translation (native.CodeFetch)
        self._vfetch = vfetch
        #: within one trap (between trap_begins and trap_ends) the MMU state cannot change: it is
        #: read once (or given by the trap entry) instead of at every page
        self._in_trap = False
        self._mmu_now: bool | None = None
        #: RAM pages that show another RAM page (a grant mapping of the domain's own page):
        #: page gpa -> gpa of the page behind it
        self.aliases: dict[int, int] = {}

    def _host(self, pa: int) -> int:
        """The RAM address whose host memory backs guest-physical ``pa``."""
        src = self.aliases.get(pa & ~(PAGE - 1))
        return pa if src is None else src | (pa & (PAGE - 1))

    def _map_host(self, gpa: int, src: int) -> None:
        base = ctypes.addressof(ctypes.c_char.from_buffer(self.ram)) + (src - self.bank.base)
        self.uc.mem_unmap(gpa, PAGE)
        self.uc.mem_map_ptr(gpa, PAGE, UC_PROT_ALL, base)

    def alias_page(self, gpa: int, src: int) -> bool:
        """Show RAM page ``src`` at RAM page ``gpa`` too (both page aligned, in the bank): the
        vCPU's accesses to either reach the same host memory. False if this memory cannot."""
        if self.ram is None or not (self.bank.contains(gpa, PAGE) and self.bank.contains(src, PAGE)):
            return False
        src = self._host(src)
        self._map_host(gpa, src)
        if src == gpa:
            self.aliases.pop(gpa, None)
        else:
            self.aliases[gpa] = src
        return True

    def unalias_page(self, gpa: int) -> None:
        """Give RAM page ``gpa`` its own memory back."""
        if self.aliases.pop(gpa, None) is not None:
            self._map_host(gpa, gpa)

    def _read_table(self, addr: int, size: int) -> int:
        if not self.bank.contains(addr, size):
            raise TranslationFault(addr, "translation table outside RAM")
        if self.ram is not None:
            off = self._host(addr) - self.bank.base
            return int.from_bytes(self.ram[off:off + size], "little")
        try:
            return int.from_bytes(self.uc.mem_read(addr, size), "little")
        except UcError:
            raise TranslationFault(addr, "translation table not readable") from None

    def trap_begins(self, mmu_on: bool | None = None) -> None:
        """The vCPU is stopped in a trap until trap_ends: its MMU state is fixed meanwhile."""
        self._in_trap, self._mmu_now = True, mmu_on

    def trap_ends(self) -> None:
        self._in_trap, self._mmu_now = False, None

    def _mmu_on(self) -> bool:
        if not self._in_trap:
            return self._mmu_enabled()
        if self._mmu_now is None:
            self._mmu_now = self._mmu_enabled()
        return self._mmu_now

    def _page(self, va: int, write: bool) -> int:
        """The guest-physical address of ``va`` (which must stay within its page)."""
        if self._walk is not None and self._mmu_on():
            try:
                t = self._walk(self._read_table, va)
            except TranslationFault:
                raise GuestFault(va) from None
            if write and not t.writable:
                raise GuestFault(va)
            pa = t.pa
        else:
            pa = va
        if not self.bank.contains(pa):
            raise GuestFault(va)
        return pa

    def _chunks(self, addr: int, length: int):
        done = 0
        while done < length:
            va = addr + done
            n = min(PAGE - (va % PAGE), length - done)
            yield va, done, n
            done += n

    def copy_from_guest(self, addr: int, length: int) -> bytes:
        out = bytearray()
        for va, _, n in self._chunks(addr, length):
            out += self._read(self._page(va, False), n)
        return bytes(out)

    def _read(self, pa: int, n: int) -> bytes:
        if self.ram is not None:
            off = self._host(pa) - self.bank.base
            return self.ram[off:off + n]
        return bytes(self.uc.mem_read(pa, n))

    def fetch_u32(self, va: int) -> int:
        """The instruction word at ``va`` as the vCPU sees it (for decoding a trapped HVC)."""
        if self._vfetch is not None:
            word = self._vfetch(va)
            if word is None:
                raise GuestFault(va)
            return word
        key = self._code_page_key(va) if self._code_page_key is not None else None
        if key is None:
            pa = self._page(va, False)
        else:
            page = self._code_pages.get(key)
            if page is None:
                if len(self._code_pages) >= CODE_PAGES_MAX:  # a kernel's text is far smaller
                    self._code_pages.clear()
                page = self._code_pages[key] = self._page(va & ~(PAGE - 1), False)
            pa = page | (va & (PAGE - 1))
        return int.from_bytes(self._read(pa, 4), "little")

    def copy_to_guest(self, addr: int, data: bytes) -> None:
        for va, done, n in self._chunks(addr, len(data)):
            self.uc.mem_write(self._page(va, True), data[done:done + n])

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
