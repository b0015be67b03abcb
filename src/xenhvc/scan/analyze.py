"""Backward analysis of the code before an HVC: what value reaches the number register (x16/r12),
or for an SMCCC call the function id in x0/r0, and through which instructions."""
from __future__ import annotations

from dataclasses import dataclass, field

from .decode import Insn

ARG_REGS = {"a64": ("x0", "x1", "x2", "x3", "x4", "x5", "x6", "x7"), "a32": ("r0", "r1", "r2", "r3"),
            "t32": ("r0", "r1", "r2", "r3")}
#: what a call may clobber besides its result (AAPCS64 / AAPCS caller-saved registers)
CALL_CLOBBERS = {
    "a64": frozenset(f"x{i}" for i in range(19)) | {"x30"},
    "a32": frozenset({"r0", "r1", "r2", "r3", "r12", "r14"}),
    "t32": frozenset({"r0", "r1", "r2", "r3", "r12", "r14"}),
}


@dataclass
class Value:
    const: int | None = None
    reason: str | None = None  # why not constant
    setters: list[Insn] = field(default_factory=list)
    source_reg: str | None = None  # the value was copied from this register, live at the run start
    via_call: Insn | None = None  # a call before any write clobbered the register


class Resolver:
    """Resolves register values at an index of a straight-line run of instructions."""

    def __init__(self, isa: str, insns: list[Insn], read_mem, run_is_function_start: bool):
        self.isa = isa
        self.insns = insns
        self.read_mem = read_mem  # (addr, size) -> int | None
        self.at_function_start = run_is_function_start
        self.mask = (1 << 64) - 1 if isa == "a64" else 0xFFFFFFFF

    def resolve(self, reg: str, before: int, depth: int = 0) -> Value:
        if reg == "xzr":
            return Value(const=0)
        if depth > 6:
            return Value(reason="too many steps to follow")
        for j in range(before - 1, -1, -1):
            ins = self.insns[j]
            if reg in ins.writes:
                v = self._evaluate(ins, j, reg, depth)
                v.setters.append(ins)
                if ins.conditional:
                    v = Value(reason=f"set conditionally ({ins.text})", setters=v.setters)
                return v
            if ins.is_call and reg in CALL_CLOBBERS[self.isa]:
                return Value(reason=f"clobbered by the call at {ins.address:#x} ({ins.text})", via_call=ins)
        start = "the function's entry" if self.at_function_start else "the start of this straight-line code"
        if reg in ARG_REGS[self.isa]:
            return Value(reason=f"from a function argument ({reg})", source_reg=reg)
        return Value(reason=f"{reg} is not set between {start} and here (set by the caller or another path)",
                     source_reg=reg)

    def _evaluate(self, ins: Insn, j: int, reg: str, depth: int) -> Value:
        m, ops = ins.mnemonic, ins.ops
        width = self.mask if self.isa != "a64" or ins.wide_reg else 0xFFFFFFFF
        imms = [o for o in ops if o[0] == "imm"]
        regs = [o[1] for o in ops if o[0] == "reg"]
        mems = [o for o in ops if o[0] == "mem"]

        def sub(r: str) -> Value:
            return self.resolve(r, j, depth + 1)

        if m in ("mov", "movz", "movw", "movn", "mvn", "movs") and len(ops) == 2 and ops[1][0] == "imm":
            value = ops[1][1] << ops[1][2]
            if m in ("movn", "mvn"):
                value = ~value
            return Value(const=value & width)
        if m == "movk" and imms:
            base = sub(reg)
            if base.const is None:
                return _dyn(base)
            imm, shift = imms[0][1], imms[0][2]
            return Value(const=((base.const & ~(0xFFFF << shift)) | (imm << shift)) & width, setters=base.setters)
        if m == "movt" and imms:
            base = sub(reg)
            if base.const is None:
                return _dyn(base)
            return Value(const=((base.const & 0xFFFF) | (imms[0][1] << 16)) & width, setters=base.setters)
        if m in ("mov", "mvn") and len(regs) == 2:
            src = sub(regs[1])
            if src.const is not None:
                value = ~src.const if m == "mvn" else src.const
                return Value(const=value & width, setters=src.setters)
            return Value(reason=src.reason, setters=src.setters, source_reg=src.source_reg, via_call=src.via_call)
        if m in ("orr", "add", "sub", "eor", "and") and len(ops) >= 3 and ops[1][0] == "reg":
            a = sub(ops[1][1])
            if ops[2][0] == "imm":
                b = Value(const=ops[2][1] << ops[2][2])
            elif ops[2][0] == "reg" and len(ops) == 3:
                b = sub(ops[2][1])
            else:
                return Value(reason=f"computed by {ins.text}")
            if a.const is None or b.const is None:
                bad = a if a.const is None else b
                return Value(reason=f"computed by {ins.text} from a value that is not constant ({bad.reason})",
                             setters=a.setters + b.setters, source_reg=bad.source_reg)
            op = {"orr": lambda x, y: x | y, "add": lambda x, y: x + y, "sub": lambda x, y: x - y,
                  "eor": lambda x, y: x ^ y, "and": lambda x, y: x & y}[m]
            return Value(const=op(a.const, b.const) & width, setters=a.setters + b.setters)
        if m in ("ldr", "ldrsw") or m.startswith("ldr"):
            addr = None
            size = 8 if (self.isa == "a64" and ins.wide_reg and m == "ldr") else 4
            if self.isa == "a64" and imms and not mems:
                addr = imms[0][1]  # literal
            elif mems and mems[0][1] == "r15" and mems[0][2] is None:
                pc = (ins.address + (8 if self.isa == "a32" else 4)) & ~3
                addr = pc + mems[0][3]
            if addr is not None and m in ("ldr", "ldrsw"):
                value = self.read_mem(addr, size)
                if value is not None:
                    if m == "ldrsw" and value & 0x80000000:
                        value -= 1 << 32
                    return Value(const=value & width)
                return Value(reason=f"loaded from {addr:#x}, outside the scanned bytes")
            if mems:
                where = "the stack" if mems[0][1] in ("sp", "r13") else f"memory ({ins.text.split(',', 1)[1].strip()})"
                return Value(reason=f"loaded from {where}")
            return Value(reason=f"loaded by {ins.text}")
        if m in ("ldp", "ldm", "pop", "ldmia", "ldmdb", "ldmib", "ldmda"):
            return Value(reason=f"loaded from memory by {ins.text}")
        if m in ("adr", "adrp") and imms:
            return Value(const=imms[0][1] & width)
        return Value(reason=f"computed by {ins.text}")


def _dyn(v: Value) -> Value:
    return Value(reason=v.reason, setters=v.setters, source_reg=v.source_reg, via_call=v.via_call)


def straight_line(insns: list[Insn]) -> tuple[list[Insn], bool]:
    """Cut ``insns`` (ending just before an HVC) after the last instruction that never falls through
    (ret, unconditional branch): what precedes it does not flow into the HVC. True when cut."""
    for j in range(len(insns) - 1, -1, -1):
        if insns[j].ends_flow:
            return insns[j + 1:], True
    return insns, False
