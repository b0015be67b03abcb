"""Candidate HVC instructions by encoding: one vectorised mask-and-compare over the buffer per ISA,
no disassembly.

=====  ======================================  ==========  =========
ISA    encoding (little-endian word)           mask        alignment
=====  ======================================  ==========  =========
A64    1101 0100 000 imm16 000 10              0xFFE0001F  4
A32    1110 0001 0100 imm12 0111 imm4          0xFFF000F0  4 (cond = AL; others are UNPREDICTABLE)
T32    11110 1111110 imm4 | 1000 imm12         0xF000FFF0  2 (first halfword in the low half)
=====  ======================================  ==========  =========
"""
from __future__ import annotations

import numpy as np

_PATTERNS = {
    "a64": (0xFFE0001F, 0xD4000002, 4),
    "a32": (0xFFF000F0, 0xE1400070, 4),
    "t32": (0xF000FFF0, 0x8000F7E0, 2),
}


def hvc_imm(isa: str, word: int) -> int:
    if isa == "a64":
        return (word >> 5) & 0xFFFF
    if isa == "a32":
        return ((word >> 4) & 0xFFF0) | (word & 0xF)
    return ((word & 0xF) << 12) | ((word >> 16) & 0xFFF)


def find_candidates(data: bytes, isa: str, base: int = 0) -> list[tuple[int, int]]:
    """``(offset, imm16)`` of every word in ``data`` that encodes an HVC in ``isa``, at the ISA's
    instruction alignment relative to ``base`` (an address; only its low bits matter)."""
    mask, value, align = _PATTERNS[isa]
    out: list[tuple[int, int]] = []
    buf = memoryview(data)
    starts = ((-base) % 2, (-base) % 2 + 2) if align == 2 else ((-base) % 4,)
    for start in starts:
        n = (len(data) - start) // 4
        if n <= 0:
            continue
        words = np.frombuffer(buf[start:start + 4 * n], dtype="<u4")
        hits = np.flatnonzero((words & np.uint32(mask)) == np.uint32(value))
        for i in hits.tolist():
            off = start + 4 * i
            out.append((off, hvc_imm(isa, int(words[i]))))
    if align == 2:
        out.sort()
    return out
