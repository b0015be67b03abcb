"""The two guest architectures, described as data of the same shape. Generic code asks the
:class:`Arch` it was given; it never compares architecture names."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class HvcEncoding:
    isa: str  # "a64", "a32" or "t32"
    base: int  # the instruction with imm16 = 0
    size: int = 4

    def encode(self, imm16: int) -> bytes:
        """The little-endian bytes of ``hvc #imm16``."""
        return self._word(imm16).to_bytes(4, "little")

    def _word(self, imm16: int) -> int:
        if self.isa == "a64":
            return self.base | (imm16 << 5)
        if self.isa == "a32":
            return self.base | ((imm16 & 0xFFF0) << 4) | (imm16 & 0xF)
        # T32 hvc.w: two halfwords, imm4 in the first, imm12 in the second; stored first halfword first.
        hw1 = 0xF7E0 | (imm16 >> 12)
        hw2 = 0x8000 | (imm16 & 0xFFF)
        return hw1 | (hw2 << 16)


@dataclass(frozen=True)
class Arch:
    """The register ABI of one guest architecture (xen/include/public/arch-arm.h)."""

    name: str  # "aarch64" or "aarch32"
    word_bits: int
    number_reg: str  # where the hypercall number travels
    arg_regs: tuple[str, ...]  # arguments 1..5
    result_reg: str
    pointer_size: int
    hvc: tuple[HvcEncoding, ...]
    #: SMCCC: where the function id and the arguments/results live (x0..x7).
    smccc_regs: tuple[str, ...]

    def gpr(self, n: int) -> str:
        """The name of general-purpose register ``n`` (x<n> or r<n>)."""
        return f"{self.arg_regs[0][0]}{n}"

    @property
    def word_mask(self) -> int:
        return (1 << self.word_bits) - 1

    def to_signed(self, value: int) -> int:
        value &= self.word_mask
        return value - (1 << self.word_bits) if value >> (self.word_bits - 1) else value

    def to_register(self, value: int) -> int:
        return value & self.word_mask


def arch_named(name: str) -> Arch:
    from . import aarch32, aarch64

    for mod in (aarch64, aarch32):
        if mod.ARCH.name == name:
            return mod.ARCH
    raise KeyError(name)
