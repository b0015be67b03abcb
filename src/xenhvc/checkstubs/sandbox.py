"""Run one function in isolation: marker values in every AAPCS argument position, a stand-in for
Xen at its HVC, and the machine state at the HVC and on return.

This is the one Unicorn user outside :mod:`xenhvc.cpu`: it runs a lone function, not a domain, so it
takes the vCPU set-up (EL1 / SVC mode with HVC enabled) from the cpu glue and nothing else."""
from __future__ import annotations

from dataclasses import dataclass, field

from unicorn import UC_HOOK_INTR, Uc, UcError

from ..abi.hypercalls import ARM_TABLE
from ..abi.xen import DEBUG_POISON
from ..cpu import aarch32 as glue32
from ..cpu import aarch64 as glue64
from .binary import Function, Program, hvc_imm_a32, hvc_imm_a64, hvc_imm_t32

PAGE = 0x1000
STACK_SIZE = 0x10000
MAX_INSTRUCTIONS = 100_000
EXCP_HVC = 11


@dataclass(frozen=True)
class Layout:
    """The AAPCS picture of one ISA: where arguments 1..n live and which registers are whose."""

    isa: str
    word: int  # bytes
    arg_regs: tuple[str, ...]  # AAPCS argument registers
    stack_args: int  # how many stack argument slots get markers
    callee_saved: tuple[str, ...]
    scratch: tuple[str, ...]  # caller-saved registers that are not argument registers
    nr_reg: str
    abi_args: tuple[str, ...]  # Xen's x0-x4 / r0-r4
    lr: str

    @property
    def mask(self) -> int:
        return (1 << (8 * self.word)) - 1

    def arg_mark(self, k: int) -> int:
        return (0xA1A1000000000A00 if self.word == 8 else 0xA1A10A00) + k

    def reg_mark(self, reg: str) -> int:
        n = int(reg[1:])
        if reg in self.callee_saved:
            return (0xC5C5000000000C00 if self.word == 8 else 0xC5C50C00) + n
        return (0x5C5C000000000500 if self.word == 8 else 0x5C5C0500) + n

    @property
    def result(self) -> int:
        return 0x0000000000E5E5E5 if self.word == 8 else 0x00E5E5E5

    def arg_origin(self, k: int) -> str:
        """Where AAPCS argument ``k`` (1-based) arrives."""
        if k <= len(self.arg_regs):
            return self.arg_regs[k - 1]
        return f"[sp, #{(k - len(self.arg_regs) - 1) * self.word}]"

    def classify(self, value: int) -> tuple[str, int | str | None]:
        """("arg", k) | ("entry", reg) | ("result", None) | ("const", value)."""
        for k in range(1, len(self.arg_regs) + self.stack_args + 1):
            if value == self.arg_mark(k):
                return "arg", k
        for reg in self.callee_saved + self.scratch + (self.nr_reg,):
            if value == self.reg_mark(reg):
                return "entry", reg
        if self.word == 8 and value >> 32 in (0, 0xFFFFFFFF):
            # an int/unsigned int parameter: only its low 32 bits (zero- or sign-extended)
            for k in range(1, len(self.arg_regs) + self.stack_args + 1):
                if value & 0xFFFFFFFF == self.arg_mark(k) & 0xFFFFFFFF:
                    return "arg32", k
        return "const", value


A64 = Layout("a64", 8, tuple(f"x{i}" for i in range(8)), 4, tuple(f"x{i}" for i in range(19, 30)),
             tuple(f"x{i}" for i in (8, 9, 10, 11, 12, 13, 14, 15, 17, 18)), "x16",
             tuple(f"x{i}" for i in range(5)), "x30")
A32 = Layout("a32", 4, ("r0", "r1", "r2", "r3"), 8, tuple(f"r{i}" for i in range(4, 12)), (), "r12",
             tuple(f"r{i}" for i in range(5)), "lr")


@dataclass
class Observation:
    """What one run saw."""

    layout: Layout
    entry_sp: int
    at_hvc: dict[str, int] | None = None  # registers at the first HVC
    hvc_addr: int | None = None
    hvc_imm: int | None = None
    hvc_count: int = 0
    returned: bool = False
    final: dict[str, int] = field(default_factory=dict)
    stop: str | None = None  # why it did not return (exception, fault, limit)


class Sandbox:
    def __init__(self, prog: Program):
        self.prog = prog
        self.layout = A64 if prog.isa == "a64" else A32
        self.glue = glue64 if prog.isa == "a64" else glue32
        regions = _pages(prog.segments)
        self.stack_base = _free_region(regions, STACK_SIZE + PAGE, 0xFFFFFFFF)
        self.ret_addr = self.stack_base + STACK_SIZE  # a page of its own above the stack
        self.regions = regions + [(self.stack_base, STACK_SIZE + PAGE)]

    def run(self, fn: Function) -> Observation:
        lay, glue = self.layout, self.glue
        uc = Uc(glue.UC_ARCH, glue.UC_MODE)
        uc.ctl_set_cpu_model(glue.UC_CPU)
        cpu = glue.Cpu(uc)
        cpu.configure()
        for base, size in self.regions:
            uc.mem_map(base, size)
        for addr, data in self.prog.segments:
            uc.mem_write(addr, data)
        cpu.boot(fn.addr, fn.thumb, 0)
        regs = glue.REGS
        sp = self.stack_base + STACK_SIZE - 0x800
        for reg in lay.callee_saved + lay.scratch + (lay.nr_reg,):
            uc.reg_write(regs[reg], lay.reg_mark(reg))
        for k, reg in enumerate(lay.arg_regs, 1):
            uc.reg_write(regs[reg], lay.arg_mark(k))
        for i in range(lay.stack_args):
            uc.mem_write(sp + i * lay.word, lay.arg_mark(len(lay.arg_regs) + 1 + i).to_bytes(lay.word, "little"))
        uc.reg_write(regs[lay.lr], self.ret_addr)
        uc.reg_write(regs["sp"], sp)
        obs = Observation(lay, sp)
        names = [f"{lay.abi_args[0][0]}{i}" for i in range(31 if lay.word == 8 else 13)] + ["sp", lay.lr]

        def on_intr(uc: Uc, intno: int, _ud) -> None:
            pc = uc.reg_read(regs["pc"])
            if intno != EXCP_HVC:
                obs.stop = f"exception {intno} at {pc:#x}"
                uc.emu_stop()
                return
            obs.hvc_count += 1
            if obs.hvc_count > 1:
                return
            snap = {n: uc.reg_read(regs[n]) for n in names}
            obs.at_hvc = snap
            obs.hvc_addr = pc - 4
            obs.hvc_imm = self._imm(uc, pc - 4, fn.thumb)
            # Xen at its least forgiving (a debug build): result in x0/r0, then the argument
            # registers the call uses (arity from the number; privcmd: all five) and the number
            # register poisoned
            nr = snap[lay.nr_reg]
            spec = ARM_TABLE.get(nr)
            arity = spec.arity if spec is not None else (5 if nr == lay.arg_mark(1) else 0)
            uc.reg_write(regs[lay.abi_args[0]], lay.result)
            for reg in lay.abi_args[1:arity]:
                uc.reg_write(regs[reg], DEBUG_POISON)
            if arity:
                uc.reg_write(regs[lay.nr_reg], DEBUG_POISON)

        uc.hook_add(UC_HOOK_INTR, on_intr)
        try:
            uc.emu_start(fn.addr | (1 if fn.thumb else 0), self.ret_addr, count=MAX_INSTRUCTIONS)
        except UcError as e:
            obs.stop = f"{e} at {uc.reg_read(regs['pc']):#x}"
        pc = uc.reg_read(regs["pc"])
        if obs.stop is None:
            if pc & ~1 == self.ret_addr:
                obs.returned = True
            else:
                obs.stop = f"did not return within {MAX_INSTRUCTIONS} instructions (pc {pc:#x})"
        obs.final = {n: uc.reg_read(regs[n]) for n in names}
        return obs

    def _imm(self, uc: Uc, addr: int, thumb: bool) -> int | None:
        raw = bytes(uc.mem_read(addr, 4))
        if self.layout.isa == "a64":
            return hvc_imm_a64(int.from_bytes(raw, "little"))
        if thumb:
            return hvc_imm_t32(int.from_bytes(raw[:2], "little"), int.from_bytes(raw[2:], "little"))
        return hvc_imm_a32(int.from_bytes(raw, "little"))


def _pages(segments: list[tuple[int, bytes]]) -> list[tuple[int, int]]:
    spans = sorted((a & ~(PAGE - 1), (a + len(d) + PAGE - 1) & ~(PAGE - 1)) for a, d in segments if d)
    merged: list[list[int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(s, e - s) for s, e in merged]


def _free_region(regions: list[tuple[int, int]], size: int, limit: int) -> int:
    for cand in (0x7F000000, 0x3F000000, 0xBF000000, 0x0F000000, 0xEF000000):
        if cand + size <= limit and all(cand + size <= b or cand >= b + s for b, s in regions):
            return cand
    raise ValueError("no room for a stack beside the program")
