"""The decoded hypercall trace: one record per trapped HVC, rendered as text or JSON lines."""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from enum import IntEnum

from .abi.errno import Errno
from .abi.hypercalls import INT, PTR, UINT, HypercallSpec


@dataclass(frozen=True)
class TraceRecord:
    kind: str  # "hypercall", "smccc", "undef", "irq"
    name: str
    args: tuple[int, ...]  # as the handler saw them (after the C parameter casts)
    args_text: str
    result: int | None  # signed; None where nothing is returned (injected exception, shutdown)
    notes: tuple[str, ...] = ()
    pc: int = 0  # address of the HVC (for "irq": where the interrupted code resumes)

    @property
    def result_text(self) -> str:
        if self.result is None:
            return ""
        if self.kind == "smccc":  # SMCCC/PSCI return codes are not Xen errno values
            return str(self.result) if -0x10000 < self.result < 0x10000 else hex(self.result & (2**64 - 1))
        return format_result(self.result)

    def text(self) -> str:
        if self.kind in ("undef", "irq"):
            return f"{self.name}: {self.args_text}"
        line = f"{self.name}({self.args_text})"
        if self.result is not None:
            line += f" = {self.result_text}"
        if self.notes:
            line += ", " + ", ".join(self.notes)
        return line

    def json(self) -> str:
        record = asdict(self)
        record["args"] = list(self.args)
        record["notes"] = list(self.notes)
        record["result_text"] = self.result_text
        record["text"] = self.text()
        return json.dumps(record, sort_keys=True)


def format_result(value: int) -> str:
    if value < 0 and -value in Errno._value2member_map_:
        return f"-{Errno(-value).name}"
    if -0x10000 < value < 0x10000:
        return str(value)
    return hex(value) if value >= 0 else f"-{-value:#x}"


def format_args(spec: HypercallSpec | None, args: tuple[int, ...], subops: type[IntEnum] | None,
                decoded: tuple[int, str] | None = None) -> str:
    if spec is None:  # not in the Arm table: print the registers up to the last non-zero one
        trimmed = list(args)
        while trimmed and trimmed[-1] == 0:
            trimmed.pop()
        return ", ".join(hex(a) for a in trimmed)
    parts = []
    for i, (kind, value) in enumerate(zip(spec.params, args)):
        if decoded is not None and i == decoded[0]:
            parts.append(decoded[1])
        elif i == 0 and subops is not None and value in subops._value2member_map_:
            parts.append(subops(value).name)
        elif kind == PTR:
            parts.append("NULL" if value == 0 else hex(value))
        elif kind in (INT, UINT):
            parts.append(str(value))
        else:
            parts.append(hex(value) if value > 9 else str(value))
    return ", ".join(parts)
