"""Value types of the call-site scanner: code regions to scan, call sites, hazards."""
from __future__ import annotations

from dataclasses import dataclass, field

ISAS = ("a64", "a32", "t32")
NUMBER_REG = {"a64": "x16", "a32": "r12", "t32": "r12"}
XEN_TAG = 0xEA1


@dataclass(frozen=True)
class Function:
    start: int
    end: int  # exclusive; == start when the symbol has no size
    name: str
    isa: str | None = None  # ELF32 FUNC symbols: bit 0 says Thumb


@dataclass
class Region:
    """Bytes to scan. ``isa_map`` (from ELF mapping symbols $x/$a/$t/$d) is a sorted list of
    ``(start, isa or "data")``; None means unknown (raw images: every ISA in ``isas`` is tried)."""

    name: str
    base: int
    data: bytes
    isas: tuple[str, ...]
    isa_map: list[tuple[int, str]] | None = None
    functions: list[Function] = field(default_factory=list)
    #: addresses of symbols that mark code another path can reach (function starts, labels)
    labels: frozenset[int] = frozenset()

    def isa_at(self, addr: int) -> str | None:
        """The ISA the mapping symbols give ``addr`` (None: unknown or before the first)."""
        if self.isa_map is None:
            return None
        import bisect

        i = bisect.bisect_right(self.isa_map, (addr, "\xff")) - 1
        return self.isa_map[i][1] if i >= 0 else None

    def isa_start(self, addr: int) -> int:
        """Where the mapping-symbol run that contains ``addr`` begins (``base`` if unknown)."""
        if not self.isa_map:
            return self.base
        import bisect

        i = bisect.bisect_right(self.isa_map, (addr, "\xff")) - 1
        return max(self.base, self.isa_map[i][0]) if i >= 0 else self.base

    def function_at(self, addr: int) -> Function | None:
        import bisect

        i = bisect.bisect_right(self.functions, addr, key=lambda f: f.start) - 1
        # sized symbols contain the address; an unsized one (assembly without .size) runs to the next
        while i >= 0:
            f = self.functions[i]
            if f.end > f.start:
                if addr < f.end:
                    return f
            else:
                return f
            i -= 1
        return None


@dataclass
class Target:
    """A file made ready for scanning."""

    path: str
    format: str  # "elf32", "elf64", "arm64-image", "zimage", "raw"
    regions: list[Region]
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Hazard:
    code: str  # wrong-immediate, number-not-in-table, veneer-window, thumb-encoding, r4-not-preserved
    message: str


@dataclass(frozen=True)
class SetInsn:
    """One instruction that contributes to the number register's value."""

    address: int
    size: int
    text: str


@dataclass
class Site:
    address: int
    isa: str
    imm: int
    region: str
    function: str | None = None
    number: int | None = None  # x16/r12 for Xen sites, the function id in x0/r0 for SMCCC sites
    dynamic: str | None = None  # why the number is not static
    setters: list[SetInsn] = field(default_factory=list)
    hazards: list[Hazard] = field(default_factory=list)
    confident: bool = True  # False: the bytes before it do not decode as plausible code
    #: register moves between argument registers before the HVC (out-of-line stubs shuffle)
    shuffles: int = 0
    number_source: str | None = None  # the register the number was copied from, if any

    @property
    def kind(self) -> str:
        if self.imm == XEN_TAG:
            return "xen"
        if self.imm == 0:
            return "smccc"
        return "other"

    @property
    def name(self) -> str | None:
        if self.number is None:
            return None
        if self.kind != "smccc":
            from ..abi.hypercalls import hypercall_name

            return hypercall_name(self.number) if self.number < 64 else f"hypercall_{self.number:#x}"
        if self.kind == "smccc":
            from ..abi.smccc import SmcccFid

            try:
                return SmcccFid(self.number).name
            except ValueError:
                return f"smccc_{self.number:#x}"
        return None

    def to_json(self) -> dict:
        return {
            "address": self.address, "isa": self.isa, "imm": self.imm, "kind": self.kind,
            "region": self.region, "function": self.function, "number": self.number,
            "name": self.name, "dynamic": self.dynamic,
            "setters": [{"address": s.address, "size": s.size, "text": s.text} for s in self.setters],
            "hazards": [{"code": h.code, "message": h.message} for h in self.hazards],
            "confident": self.confident,
        }
