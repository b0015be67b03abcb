"""Decode a short window of code before a candidate HVC with capstone, as a straight-line run of
instructions ending exactly at the HVC."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import capstone as cs
from capstone import arm, arm64

#: bytes decoded before a candidate when no enclosing function is known
WINDOW = 128
#: the longest function prefix decoded when the enclosing function is known
MAX_FUNCTION_PREFIX = 4096

_ARM_ALIASES = {"ip": "r12", "sb": "r9", "sl": "r10", "fp": "r11", "sp": "r13", "lr": "r14", "pc": "r15"}
_CONDS = {"eq", "ne", "cs", "hs", "cc", "lo", "mi", "pl", "vs", "vc", "hi", "ls", "ge", "lt", "gt", "le", "al"}


def _make(isa: str) -> cs.Cs:
    if isa == "a64":
        md = cs.Cs(cs.CS_ARCH_ARM64, cs.CS_MODE_ARM)
    elif isa == "a32":
        md = cs.Cs(cs.CS_ARCH_ARM, cs.CS_MODE_ARM | cs.CS_MODE_V8)
    else:
        md = cs.Cs(cs.CS_ARCH_ARM, cs.CS_MODE_THUMB | cs.CS_MODE_V8)
    md.detail = True
    return md


_MD: dict[str, cs.Cs] = {}


def disassembler(isa: str) -> cs.Cs:
    md = _MD.get(isa)
    if md is None:
        md = _MD[isa] = _make(isa)
    return md


def canon(isa: str, name: str) -> str:
    """One name per architectural register: w16 -> x16, ip -> r12."""
    if isa == "a64":
        if name in ("wzr", "xzr"):
            return "xzr"
        if name[0] == "w" and name[1:].isdigit():
            return "x" + name[1:]
        if name == "fp":
            return "x29"
        if name == "lr":
            return "x30"
        return name
    return _ARM_ALIASES.get(name, name)


@dataclass
class Insn:
    """The facts about one decoded instruction the analysis needs (capstone objects are heavy)."""

    address: int
    size: int
    text: str
    mnemonic: str  # base mnemonic: no condition, no .w/.n, no flag-setting s
    conditional: bool
    reads: frozenset[str]
    writes: frozenset[str]
    ops: list = field(default_factory=list)  # ("reg", name) / ("imm", value, shift) / ("mem", base, index, disp)
    is_call: bool = False
    is_branch: bool = False  # any control transfer other than a call
    ends_flow: bool = False  # unconditional: execution never falls through to the next instruction
    target: int | None = None  # direct branch/call target
    wide_reg: bool = True  # A64: writes the 64-bit view (x) rather than w


def _base_mnemonic(ins, isa: str) -> tuple[str, bool]:
    m = ins.mnemonic.split(".")[0]
    conditional = False
    if isa == "a64":
        conditional = "." in ins.mnemonic and ins.mnemonic.split(".")[0] == "b" or m in ("cbz", "cbnz", "tbz", "tbnz")
        return m, conditional
    if ins.cc not in (arm.ARM_CC_AL, arm.ARM_CC_INVALID):
        conditional = True
        if m[-2:] in _CONDS and len(m) > 2:
            m = m[:-2]
    if ins.update_flags and m.endswith("s") and m not in ("bics",) and len(m) > 2:
        m = m[:-1]
    if m in ("cbz", "cbnz"):
        conditional = True
    return m, conditional


def convert(ins, isa: str) -> Insn:
    m, conditional = _base_mnemonic(ins, isa)
    try:
        r, w = ins.regs_access()
    except cs.CsError:
        r, w = [], []
    reads = frozenset(canon(isa, ins.reg_name(x)) for x in r)
    writes = frozenset(canon(isa, ins.reg_name(x)) for x in w)
    ops = []
    wide = True
    for i, o in enumerate(ins.operands):
        if isa == "a64":
            if o.type == arm64.ARM64_OP_REG:
                name = ins.reg_name(o.reg)
                if i == 0 and name.startswith("w"):
                    wide = False
                ops.append(("reg", canon(isa, name)))
            elif o.type == arm64.ARM64_OP_IMM:
                ops.append(("imm", o.imm, o.shift.value if o.shift.type == arm64.ARM64_SFT_LSL else 0))
            elif o.type == arm64.ARM64_OP_MEM:
                base = canon(isa, ins.reg_name(o.mem.base)) if o.mem.base else None
                index = canon(isa, ins.reg_name(o.mem.index)) if o.mem.index else None
                ops.append(("mem", base, index, o.mem.disp))
            else:
                ops.append(("other",))
        else:
            if o.type == arm.ARM_OP_REG:
                ops.append(("reg", canon(isa, ins.reg_name(o.reg))))
            elif o.type == arm.ARM_OP_IMM:
                ops.append(("imm", o.imm, 0))
            elif o.type == arm.ARM_OP_MEM:
                base = canon(isa, ins.reg_name(o.mem.base)) if o.mem.base else None
                index = canon(isa, ins.reg_name(o.mem.index)) if o.mem.index else None
                disp = -o.mem.disp if o.subtracted and o.mem.disp > 0 else o.mem.disp
                ops.append(("mem", base, index, disp))
            else:
                ops.append(("other",))
    groups = set(ins.groups)
    is_call = cs.CS_GRP_CALL in groups or m in ("bl", "blx", "blr", "blraa", "blrab", "blraaz", "blrabz")
    pc = "pc" if isa == "a64" else "r15"
    writes_pc = pc in writes
    is_branch = not is_call and (cs.CS_GRP_JUMP in groups or cs.CS_GRP_RET in groups or writes_pc
                                 or m in ("b", "br", "ret", "bx", "cbz", "cbnz", "tbz", "tbnz", "tbb", "tbh",
                                          "eret", "retaa", "retab", "braa", "brab", "braaz", "brabz"))
    ends_flow = (is_branch and not conditional) or m in ("udf", "brk", "hlt", "eret")
    target = None
    if (is_call or is_branch) and ops and ops[-1][0] == "imm" and m not in ("bx", "br", "ret"):
        target = ops[-1][1]
    return Insn(ins.address, ins.size, f"{ins.mnemonic} {ins.op_str}".strip(), m, conditional, reads,
                writes, ops, is_call, is_branch, ends_flow, target, wide)


@dataclass(frozen=True)
class Lite:
    """An instruction decoded without details (capstone's disasm_lite): cheap, for whole windows."""

    address: int
    size: int
    mnemonic: str
    op_str: str

    @property
    def text(self) -> str:
        return f"{self.mnemonic} {self.op_str}".strip()


_TARGET = re.compile(r"#(-?0x[0-9a-f]+|-?\d+)$")
_A64_END = {"ret", "b", "br", "eret", "retaa", "retab", "braa", "brab", "braaz", "brabz", "udf", "brk", "hlt"}


def lite_ends_flow(isa: str, i: Lite) -> bool:
    """Execution never falls through ``i`` (unconditional branch, return, pop/ldm of pc, undefined)."""
    m = i.mnemonic
    if isa == "a64":
        return m in _A64_END
    base = m.split(".")[0]
    if base in ("b", "bx", "udf"):
        return True
    if base in ("pop", "ldm", "ldmia", "ldmfd") and "pc" in i.op_str:
        return True
    return base in ("mov", "ldr") and i.op_str.startswith("pc,")


def lite_target(isa: str, i: Lite) -> int | None:
    m = i.mnemonic.split(".")[0] if isa != "a64" else i.mnemonic
    branchy = m.startswith(("b", "cb", "tb")) and m not in ("bic", "bics", "bfi", "bfc", "bfxil", "bti", "bkpt",
                                                            "bif", "bit", "bsl", "bcax")
    if not branchy or m in ("bx", "blx", "br", "blr") and "#" not in i.op_str:
        return None
    t = _TARGET.search(i.op_str)
    return int(t.group(1), 0) if t else None


def decode_run(isa: str, buf: bytes | memoryview, buf_base: int, start: int, end: int) -> tuple[list[Lite], int]:
    """The longest run of valid instructions that starts at or after ``start`` and ends exactly at
    ``end`` (instruction-aligned addresses; ``buf`` holds ``buf_base``..). Returns the run (decoded
    without details) and the number of undecodable words skipped on the way."""
    md = disassembler(isa)
    step = 2 if isa == "t32" else 4
    skipped = 0
    pos = start
    while pos < end:
        run: list[Lite] = []
        nxt = pos
        for a, size, mn, op in md.disasm_lite(bytes(buf[pos - buf_base:end - buf_base]), pos):
            run.append(Lite(a, size, mn, op))
            nxt = a + size
        if nxt == end:
            return run, skipped
        # stopped early (an undecodable word) or overshot (a 32-bit T32 instruction across end)
        skipped += 1
        pos = (nxt + step) if pos < nxt < end else pos + step
    return [], skipped


def detail(isa: str, buf: bytes | memoryview, buf_base: int, start: int, end: int) -> list[Insn]:
    """Full decode (registers read and written, operands) of ``start``..``end``."""
    md = disassembler(isa)
    return [convert(i, isa) for i in md.disasm(bytes(buf[start - buf_base:end - buf_base]), start)]


def decode_window(isa: str, buf: bytes | memoryview, buf_base: int, start: int, end: int) -> tuple[list[Lite], int]:
    """``decode_run`` that, for T32, also tries the other halfword phase and keeps the better run."""
    if isa != "t32":
        return decode_run(isa, buf, buf_base, start, end)
    best: tuple[tuple[int, int], list[Lite], int] | None = None
    for s in (start, start + 2):
        if s >= end:
            continue
        run, skipped = decode_run(isa, buf, buf_base, s, end)
        key = (skipped, run[0].address if run else end)  # fewer bad words, then the longer run
        if best is None or key < best[0]:
            best = (key, run, skipped)
    return (best[1], best[2]) if best is not None else ([], 0)


def decode_after(isa: str, buf: bytes | memoryview, buf_base: int, start: int, limit: int = 2) -> list[Lite]:
    md = disassembler(isa)
    return [Lite(*t) for t in md.disasm_lite(bytes(buf[start - buf_base:start - buf_base + 4 * limit]), start)][:limit]
