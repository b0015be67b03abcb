"""From what a run saw to a verdict: which AAPCS argument reached which ABI register, the number,
the HVC immediate, callee-saved registers, the stack, the result."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

from ..abi.hypercalls import ARM_TABLE, INT, UINT, hypercall_name
from ..abi.xen import SMCCC_HVC_IMM, XEN_HYPERCALL_TAG
from .binary import Function
from .sandbox import Layout, Observation

_BY_NAME = {spec.name: spec for spec in ARM_TABLE.values()}


def expected_from_name(name: str):
    """The table row a symbol names: ``HYPERVISOR_<name>`` or anything ending in ``_<name>``
    (the longest table name that fits)."""
    best = None
    for tname, spec in _BY_NAME.items():
        if name == tname or name.endswith("_" + tname):
            if best is None or len(tname) > len(best.name):
                best = spec
    return best


@dataclass
class StubReport:
    name: str
    address: int
    isa: str  # a64, a32, t32
    kind: str = "unknown"  # "direct" (number in the stub), "number-first" (privcmd_call style), "unknown"
    hvc_address: int | None = None
    hvc_immediate: int | None = None
    number: int | None = None  # the constant a direct stub passes
    number_from: str | None = None  # "arg1" for a number-first stub
    arity: int | None = None
    #: ABI register -> what arrived ("arg3 (x2)", "r4 on entry", "0x11"): argN is the Nth AAPCS argument
    mapping: dict[str, str] = field(default_factory=dict)
    not_preserved: list[str] = field(default_factory=list)
    stack_delta: int | None = None  # sp on return - sp on entry (0: balanced)
    returns_result: bool | None = None
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def to_json(self) -> dict:
        d = asdict(self)
        d["ok"] = self.ok
        return d


def _describe(lay: Layout, value: int) -> str:
    kind, what = lay.classify(value)
    if kind == "arg":
        return f"arg{what} ({lay.arg_origin(what)})"
    if kind == "arg32":
        return f"arg{what} ({lay.arg_origin(what)}, low 32 bits)"
    if kind == "entry":
        return f"{what} on entry"
    return f"{value:#x}"


def analyze(fn: Function, isa: str, obs: Observation) -> StubReport:
    lay = obs.layout
    rep = StubReport(fn.name, fn.addr, isa)
    expected = expected_from_name(fn.name)
    if obs.at_hvc is None:
        rep.errors.append("never reached an HVC" + (f": {obs.stop}" if obs.stop else " (returned without one)"))
        _after(rep, lay, obs)
        return rep
    regs = obs.at_hvc
    rep.hvc_address, rep.hvc_immediate = obs.hvc_addr, obs.hvc_imm
    if obs.hvc_imm != XEN_HYPERCALL_TAG:
        what = " (the SMCCC/PSCI immediate)" if obs.hvc_imm == SMCCC_HVC_IMM else ""
        rep.errors.append(f"HVC immediate {obs.hvc_imm:#x}{what}, expected XEN_HYPERCALL_TAG {XEN_HYPERCALL_TAG:#x}")
    if obs.hvc_count > 1:
        rep.warnings.append(f"{obs.hvc_count} HVCs on one call; only the first is checked")

    # the number
    nr_kind, nr_what = lay.classify(regs[lay.nr_reg])
    shift = 0
    if nr_kind == "arg":
        rep.kind, rep.number_from, shift = "number-first", f"arg{nr_what}", nr_what
        rep.arity = 5
        if nr_what != 1:
            rep.errors.append(f"the number in {lay.nr_reg} is arg{nr_what} ({lay.arg_origin(nr_what)}); "
                              "a number-first stub takes it from arg1")
    elif nr_kind == "const":
        rep.kind, rep.number = "direct", regs[lay.nr_reg]
        spec = ARM_TABLE.get(rep.number)
        rep.arity = spec.arity if spec else (expected.arity if expected else None)
        if expected is not None and rep.number != int(expected.number):
            rep.errors.append(f"passes number {rep.number} ({hypercall_name(rep.number)}) in {lay.nr_reg}, but its "
                              f"name says {expected.name} ({int(expected.number)})")
        elif spec is None:
            rep.warnings.append(f"number {rep.number} is not in the 4.17 Arm table: Xen answers -ENOSYS")
    else:
        rep.errors.append(f"number register {lay.nr_reg} not set: it still holds {nr_what}'s value on entry"
                          + _number_elsewhere(lay, regs, expected))
        rep.arity = expected.arity if expected else None

    # the arguments, ABI register by ABI register
    wrong = []
    limit = rep.arity if rep.arity is not None else 5
    spec = ARM_TABLE.get(rep.number) if rep.number is not None else None
    params = spec.params if spec is not None else ()
    for i, reg in enumerate(lay.abi_args):
        got = _describe(lay, regs[reg])
        rep.mapping[reg] = got
        if i >= limit:
            continue
        want = i + 1 + shift
        kind, what = lay.classify(regs[reg])
        if kind == "arg" and what == want:
            continue
        if kind == "arg32" and what == want and i < len(params) and params[i] in (INT, UINT):
            continue  # the handler's parameter is an int: Xen reads only the low 32 bits
        if rep.arity is None and kind not in ("arg", "arg32"):
            continue  # arity unknown: a register that holds no argument is simply unused
        wrong.append(f"{reg} <- {got}, expected arg{want} ({lay.arg_origin(want)})")
    if wrong:
        order = ", ".join(f"{r} <- {rep.mapping[r].split(' ')[0]}" for r in lay.abi_args[:limit])
        rep.errors.append("arguments not delivered in ABI order: " + "; ".join(wrong) + f" [mapping: {order}]")
    _after(rep, lay, obs)
    return rep


def _number_elsewhere(lay: Layout, regs: dict[str, int], expected) -> str:
    hits = []
    for reg, value in regs.items():
        if reg in (lay.nr_reg, "sp", lay.lr) or lay.classify(value)[0] != "const":
            continue
        if (expected is not None and value == int(expected.number)) or (expected is None and value in ARM_TABLE):
            hits.append(f"{reg} = {value} ({hypercall_name(value)})")
    return f" ({', '.join(dict.fromkeys(hits))} instead?)" if hits else ""


def _after(rep: StubReport, lay: Layout, obs: Observation) -> None:
    if not obs.returned:
        rep.errors.append(f"did not return to its caller: {obs.stop}")
        return
    final = obs.final
    for reg in lay.callee_saved:
        if final[reg] != lay.reg_mark(reg):
            rep.not_preserved.append(reg)
    if rep.not_preserved:
        detail = ", ".join(f"{r} = {_describe(lay, final[r])}" for r in rep.not_preserved)
        rep.errors.append(f"callee-saved register(s) not preserved: {detail}")
    rep.stack_delta = (final["sp"] - obs.entry_sp) & lay.mask
    if rep.stack_delta >> (8 * lay.word - 1):
        rep.stack_delta -= 1 << (8 * lay.word)
    if rep.stack_delta:
        rep.errors.append(f"stack not balanced: sp on return = sp on entry {rep.stack_delta:+#x}")
    if obs.at_hvc is not None:
        rep.returns_result = final[lay.abi_args[0]] == lay.result
        if not rep.returns_result:
            rep.errors.append(f"does not return Xen's result: {lay.abi_args[0]} = "
                              f"{_describe(lay, final[lay.abi_args[0]])} on return")
