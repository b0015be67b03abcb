"""Where Xen 4.17's domain builder puts things in a domain's RAM (xen/arch/arm/kernel.c:
``kernel_zimage_place`` and ``place_modules``).

RAM: a domain gets one bank. For dom0 (direct-mapped, the hardware domain) real Xen takes it
from the host's RAM; on the oracle's machine (QEMU virt, ``-m 1024``, ``dom0_mem=128M``) that bank
is 0x70000000-0x78000000 (see ../shared/reference/xen-4.17-dom0-on-qemu-virt.dts), so that is
the default for dom0. Unprivileged domains get GUEST_RAM0_BASE = 0x40000000 as Xen gives them.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..errors import ImageError
from .image import KernelImage, Segment

MB = 1 << 20
GUEST_RAM0_BASE = 0x40000000
#: dom0's bank under the oracle's QEMU configuration (observed; see module doc).
DOM0_RAM_BASE = 0x70000000
DEFAULT_MEMORY = 128 * MB


def _roundup(value: int, align: int) -> int:
    return (value + align - 1) & ~(align - 1)


@dataclass(frozen=True)
class MemoryBank:
    base: int
    size: int

    @property
    def end(self) -> int:
        return self.base + self.size

    def contains(self, addr: int, length: int = 1) -> bool:
        return self.base <= addr and addr + length <= self.end


@dataclass(frozen=True)
class GuestLayout:
    bank: MemoryBank
    segments: tuple[Segment, ...]  # absolute guest-physical addresses
    entry: int
    thumb: bool
    dtb_addr: int
    initrd_addr: int


def default_ram_base(memory: int, privileged: bool) -> int:
    if privileged and DOM0_RAM_BASE + memory <= 0x80000000:
        return DOM0_RAM_BASE
    return GUEST_RAM0_BASE


def place_domain(image: KernelImage, bank: MemoryBank, dtb_size: int, initrd_size: int = 0) -> GuestLayout:
    if image.position_independent:
        kernbase = _zimage_place(image, bank)
        segments = tuple(Segment(kernbase + s.addr, s.data, s.memsz) for s in image.segments)
        entry, thumb = kernbase, False
    else:
        segments = image.segments
        entry, thumb = image.entry, image.thumb
    kernbase = min(s.addr for s in segments)
    kernend = max(s.addr + s.memsz for s in segments)
    for s in segments:
        if not bank.contains(s.addr, s.memsz):
            raise ImageError(
                f"kernel does not fit in guest RAM {bank.base:#x}-{bank.end:#x}: needs {s.addr:#x}-{s.addr + s.memsz:#x}"
                " (try a larger --memory)")
    dtb_addr, initrd_addr = _place_modules(bank, kernbase, kernend, dtb_size, initrd_size)
    return GuestLayout(bank, segments, entry, thumb, dtb_addr, initrd_addr)


def _zimage_place(image: KernelImage, bank: MemoryBank) -> int:
    if image.arch.word_bits == 64:
        return bank.base + image.text_offset
    if image.zimage_start == 0:
        load_end = min(bank.base + 128 * MB, bank.end)
        return (load_end - image.length) & ~(2 * MB - 1)
    return image.zimage_start


def _place_modules(bank: MemoryBank, kernbase: int, kernend: int, dtb_size: int, initrd_size: int) -> tuple[int, int]:
    initrd_len = _roundup(initrd_size, 2 * MB)
    dtb_len = _roundup(dtb_size, 2 * MB)
    modsize = initrd_len + dtb_len
    kernsize = _roundup(kernend, 2 * MB) - kernbase
    ram128mb = bank.base + 128 * MB
    if modsize + kernsize > bank.size:
        raise ImageError("not enough memory in the first bank for the kernel+dtb+initrd (try a larger --memory)")
    if bank.end >= ram128mb + modsize and kernend < ram128mb:
        modbase = ram128mb
    elif bank.end - modsize > _roundup(kernend, 2 * MB):
        modbase = bank.end - modsize
    elif kernbase - bank.base > modsize:
        modbase = kernbase - modsize
    else:
        raise ImageError("unable to find a suitable location for dtb+initrd (try a larger --memory)")
    return modbase, modbase + dtb_len
