"""Software walks of a guest's stage-1 translation tables, as Xen's guest_walk_tables does when
it copies hypercall arguments (xen/arch/arm/guest_walk.c): AArch64 with 4K, 16K and 64K granules,
AArch32 LPAE (long descriptors) and short descriptors. Pure functions over a physical-memory
reader, so they are tested without an emulator. Only translation and the stage-1 write permission
Xen checks are modelled; memory attributes, the access flag and domains are not."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

ReadPhys = Callable[[int, int], int]  # (guest-physical address, size in bytes) -> little-endian value


class TranslationFault(Exception):
    """The address does not translate (or, for a write, is not writable at EL1)."""

    def __init__(self, va: int, why: str):
        super().__init__(f"{va:#x}: {why}")
        self.va = va
        self.why = why


@dataclass(frozen=True)
class Translation:
    pa: int
    writable: bool


_GRANULE_TG0 = {0b00: 12, 0b01: 16, 0b10: 14}
_GRANULE_TG1 = {0b10: 12, 0b11: 16, 0b01: 14}
OA_MASK_48 = (1 << 48) - 1


def walk_aarch64(read: ReadPhys, va: int, tcr: int, ttbr0: int, ttbr1: int) -> Translation:
    """EL1&0 stage-1 translation of a 64-bit VA (ARM ARM D8, AArch64.TranslationTableWalk)."""
    va &= (1 << 64) - 1
    top = (va >> 55) & 1
    tbi = (tcr >> (38 if top else 37)) & 1
    check = va if not tbi else (va & ((1 << 56) - 1)) | ((0xFF << 56) if top else 0)
    if top == 0:
        tsz, epd, granule, ttbr = tcr & 0x3F, (tcr >> 7) & 1, _GRANULE_TG0.get((tcr >> 14) & 3), ttbr0
    else:
        tsz, epd, granule, ttbr = (tcr >> 16) & 0x3F, (tcr >> 23) & 1, _GRANULE_TG1.get((tcr >> 30) & 3), ttbr1
    if granule is None:
        granule = 12  # reserved encodings behave as 4K
    tsz = min(max(tsz, 16), 39)
    inputsize = 64 - tsz
    expected = 0 if top == 0 else (1 << (64 - inputsize)) - 1
    if check >> inputsize != expected:
        raise TranslationFault(va, "outside both TTBR0 and TTBR1 ranges")
    if epd:
        raise TranslationFault(va, f"walks through TTBR{top} are disabled (EPD{top})")
    stride = granule - 3
    start = level = 4 - (inputsize - granule + stride - 1) // stride
    table = ttbr & OA_MASK_48 & ~1
    writable = True
    while True:
        shift = granule + stride * (3 - level)
        bits = inputsize - shift if level == start else stride
        index = (va >> shift) & ((1 << bits) - 1)
        desc = read((table & ~((1 << 3) - 1)) + 8 * index, 8)
        kind = desc & 3
        if kind in (0, 2) or (kind == 1 and (level == 3 or level == 0)):
            raise TranslationFault(va, f"no valid descriptor at level {level}")
        if kind == 3 and level < 3:  # table
            if (desc >> 62) & 1:  # APTable[1]: no writes below
                writable = False
            table = desc & OA_MASK_48 & ~((1 << granule) - 1)
            level += 1
            continue
        # block (kind 1, level 1/2) or page (kind 3, level 3)
        if (desc >> 7) & 1:  # AP[2]: read-only
            writable = False
        out = desc & OA_MASK_48 & ~((1 << shift) - 1)
        return Translation(out | (va & ((1 << shift) - 1)), writable)


def walk_lpae(read: ReadPhys, va: int, ttbcr: int, ttbr0: int, ttbr1: int) -> Translation:
    """AArch32 long-descriptor translation (TTBCR.EAE = 1): 4K granule, 32-bit VA."""
    va &= 0xFFFFFFFF
    t0sz, t1sz = ttbcr & 7, (ttbcr >> 16) & 7
    if t1sz == 0 and (t0sz == 0 or va < (1 << (32 - t0sz))):
        tsz, epd, ttbr, which = t0sz, (ttbcr >> 7) & 1, ttbr0, 0
    elif t0sz and va < (1 << (32 - t0sz)):
        tsz, epd, ttbr, which = t0sz, (ttbcr >> 7) & 1, ttbr0, 0
    elif t1sz and va >= (1 << 32) - (1 << (32 - t1sz)):
        tsz, epd, ttbr, which = t1sz, (ttbcr >> 23) & 1, ttbr1, 1
    else:
        raise TranslationFault(va, "outside both TTBR0 and TTBR1 ranges")
    if epd:
        raise TranslationFault(va, f"walks through TTBR{which} are disabled (EPD{which})")
    inputsize = 32 - tsz
    start = level = 1 if inputsize > 30 else 2
    table = ttbr & ((1 << 40) - 1) & ~7
    writable = True
    while True:
        shift = 12 + 9 * (3 - level)
        bits = inputsize - shift if level == start else 9
        index = (va >> shift) & ((1 << bits) - 1)
        desc = read(table + 8 * index, 8)
        kind = desc & 3
        if kind in (0, 2) or (kind == 1 and level == 3):
            raise TranslationFault(va, f"no valid descriptor at level {level}")
        if kind == 3 and level < 3:
            if (desc >> 62) & 1:
                writable = False
            table = desc & ((1 << 40) - 1) & ~0xFFF
            level += 1
            continue
        if (desc >> 7) & 1:
            writable = False
        out = desc & ((1 << 40) - 1) & ~((1 << shift) - 1)
        return Translation(out | (va & ((1 << shift) - 1)), writable)


def walk_short(read: ReadPhys, va: int, ttbcr: int, ttbr0: int, ttbr1: int) -> Translation:
    """AArch32 short-descriptor translation (TTBCR.EAE = 0): sections, supersections, 64K and 4K pages."""
    va &= 0xFFFFFFFF
    n = ttbcr & 7
    if n == 0 or va >> (32 - n) == 0:
        if (ttbcr >> 4) & 1:
            raise TranslationFault(va, "walks through TTBR0 are disabled (PD0)")
        base, index = ttbr0 & ~((1 << (14 - n)) - 1) & 0xFFFFFFFF, (va >> 20) & ((1 << (12 - n)) - 1)
    else:
        if (ttbcr >> 5) & 1:
            raise TranslationFault(va, "walks through TTBR1 are disabled (PD1)")
        base, index = ttbr1 & ~0x3FFF & 0xFFFFFFFF, va >> 20
    l1 = read(base + 4 * index, 4)
    kind = l1 & 3
    if kind == 0 or kind == 3:
        raise TranslationFault(va, "no valid first-level descriptor")
    if kind == 2:
        writable = not ((l1 >> 15) & 1) and (l1 >> 10) & 3 != 0
        if (l1 >> 18) & 1:  # supersection: 16 MiB
            return Translation((l1 & 0xFF000000) | (va & 0x00FFFFFF), writable)
        return Translation((l1 & 0xFFF00000) | (va & 0x000FFFFF), writable)
    l2 = read((l1 & 0xFFFFFC00) + 4 * ((va >> 12) & 0xFF), 4)
    if l2 & 3 == 0:
        raise TranslationFault(va, "no valid second-level descriptor")
    if l2 & 3 == 1:  # large page: 64 KiB
        writable = not ((l2 >> 9) & 1) and (l2 >> 4) & 3 != 0
        return Translation((l2 & 0xFFFF0000) | (va & 0xFFFF), writable)
    writable = not ((l2 >> 9) & 1) and (l2 >> 4) & 3 != 0
    return Translation((l2 & 0xFFFFF000) | (va & 0xFFF), writable)
