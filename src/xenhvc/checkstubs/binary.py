"""What check-stubs runs: a program's bytes at their addresses and the functions to try.

ELF (ELF64 AArch64, ELF32 ARM; executables, shared objects and relocatable objects) through
pyelftools, or a raw image with the functions named on the command line."""
from __future__ import annotations

import io
import re
from dataclasses import dataclass, field

from ..errors import ImageError, UsageError

#: where the sections of a relocatable object (.o) are laid out; relocations are not applied
REL_BASE = 0x10000


@dataclass(frozen=True)
class Function:
    name: str
    addr: int  # without the Thumb bit
    size: int  # 0: unknown
    thumb: bool = False


@dataclass
class Program:
    isa: str  # "a64" or "a32" (the family; Thumb is per function)
    segments: list[tuple[int, bytes]] = field(default_factory=list)
    functions: list[Function] = field(default_factory=list)

    def read(self, addr: int, size: int) -> bytes:
        for base, data in self.segments:
            if base <= addr < base + len(data):
                return data[addr - base:addr - base + size]
        return b""


# --- HVC encodings (the same tests decode the immediate at run time) ----------------------------

def hvc_imm_a64(word: int) -> int | None:
    return (word >> 5) & 0xFFFF if word & 0xFFE0001F == 0xD4000002 else None


def hvc_imm_a32(word: int) -> int | None:
    if word & 0x0FF000F0 == 0x01400070 and word >> 28 != 0xF:
        return ((word >> 8) & 0xFFF) << 4 | (word & 0xF)
    return None


def hvc_imm_t32(hw1: int, hw2: int) -> int | None:
    if hw1 & 0xFFF0 == 0xF7E0 and hw2 & 0xF000 == 0x8000:
        return (hw1 & 0xF) << 12 | (hw2 & 0xFFF)
    return None


def contains_hvc(code: bytes, isa: str, thumb: bool) -> bool:
    if isa == "a64" or not thumb:
        decode = hvc_imm_a64 if isa == "a64" else hvc_imm_a32
        return any(decode(int.from_bytes(code[i:i + 4], "little")) is not None
                   for i in range(0, len(code) - 3, 4))
    return any(hvc_imm_t32(int.from_bytes(code[i:i + 2], "little"), int.from_bytes(code[i + 2:i + 4], "little"))
               is not None for i in range(0, len(code) - 3, 2))


# --- loading ------------------------------------------------------------------------------------

def load_program(data: bytes, symbols: list[tuple[str, int]], isa: str | None, base: int) -> Program:
    if data[:4] == b"\x7fELF":
        prog = _load_elf(data)
        if isa is not None and isa[:1] != prog.isa[:1] and not (isa in ("a32", "t32") and prog.isa == "a32"):
            raise UsageError(f"--isa {isa} does not match the ELF file ({prog.isa})")
    else:
        isa = isa or _guess_raw_isa(data)
        if isa is None:
            raise UsageError("a raw image needs --isa a64|a32|t32")
        if not symbols:
            raise UsageError("a raw image needs --symbol NAME=ADDR for each stub")
        prog = Program("a64" if isa == "a64" else "a32", [(base, data)])
    for name, addr in symbols:
        thumb = bool(addr & 1) or isa == "t32"
        prog.functions = [f for f in prog.functions if f.name != name]
        prog.functions.append(Function(name, addr & ~1, 0, thumb and prog.isa == "a32"))
    return prog


def _guess_raw_isa(data: bytes) -> str | None:
    if data[0x38:0x3C] == b"ARM\x64":
        return "a64"
    if int.from_bytes(data[0x24:0x28], "little") == 0x016F2818:
        return "a32"
    return None


def _load_elf(data: bytes) -> Program:
    from elftools.common.exceptions import ELFError
    from elftools.elf.elffile import ELFFile

    try:
        elf = ELFFile(io.BytesIO(data))
        machine = elf["e_machine"]
        if machine == "EM_AARCH64":
            prog = Program("a64")
        elif machine == "EM_ARM":
            prog = Program("a32")
        else:
            raise ImageError(f"an ELF file for {machine}, not AArch64 or ARM")
        bases = _place(elf, prog)
        _functions(elf, prog, bases)
    except ELFError as e:
        raise ImageError(f"not a readable ELF file: {e}") from None
    return prog


def _place(elf, prog: Program) -> dict[int, int]:
    """Map the file's bytes; returns each section's load address (by index)."""
    bases: dict[int, int] = {}
    if elf["e_type"] == "ET_REL":
        addr = REL_BASE
        for i, sec in enumerate(elf.iter_sections()):
            if not sec["sh_flags"] & 0x2 or sec["sh_size"] == 0:  # SHF_ALLOC
                continue
            align = max(sec["sh_addralign"], 4)
            addr = (addr + align - 1) & ~(align - 1)
            body = sec.data() if sec["sh_type"] != "SHT_NOBITS" else bytes(sec["sh_size"])
            prog.segments.append((addr, bytes(body)))
            bases[i] = addr
            addr += len(body)
        return bases
    for seg in elf.iter_segments():
        if seg["p_type"] == "PT_LOAD" and seg["p_memsz"]:
            body = seg.data() + bytes(seg["p_memsz"] - seg["p_filesz"])
            prog.segments.append((seg["p_vaddr"], body))
    for i, sec in enumerate(elf.iter_sections()):
        bases[i] = 0
    return bases


_MAPPING = re.compile(r"^\$[atdx](\..*)?$")


def _functions(elf, prog: Program, bases: dict[int, int]) -> None:
    symtab = elf.get_section_by_name(".symtab") or elf.get_section_by_name(".dynsym")
    if symtab is None:
        return
    rel = elf["e_type"] == "ET_REL"
    exec_secs = {i for i, s in enumerate(elf.iter_sections()) if s["sh_flags"] & 0x4}  # SHF_EXECINSTR
    mapping: list[tuple[int, bool]] = []  # ($a/$t address, thumb) for untyped ARM labels
    cands = []
    for sym in symtab.iter_symbols():
        shndx = sym["st_shndx"]
        if not isinstance(shndx, int) or shndx not in exec_secs:
            continue
        value = sym["st_value"] + (bases.get(shndx, 0) if rel else 0)
        kind = sym["st_info"]["type"]
        if _MAPPING.match(sym.name):
            if sym.name[1] in "at":
                mapping.append((value, sym.name[1] == "t"))
            continue
        if kind == "STT_FUNC" or (kind == "STT_NOTYPE" and sym.name and not sym.name.startswith(".L")):
            cands.append((sym.name, value, sym["st_size"], kind))
    mapping.sort()
    seen = set()
    for name, value, size, kind in sorted(cands, key=lambda c: c[1]):
        thumb = False
        if prog.isa == "a32":
            if kind == "STT_FUNC":
                thumb = bool(value & 1)
            else:
                before = [t for a, t in mapping if a <= value]
                thumb = before[-1] if before else False
        addr = value & ~1 if prog.isa == "a32" else value
        if name in seen:
            continue
        seen.add(name)
        prog.functions.append(Function(name, addr, size, thumb))


_NAME = re.compile(r"(^HYPERVISOR_|hypercall|^privcmd_call$)", re.IGNORECASE)


def select_stubs(prog: Program) -> list[Function]:
    """HYPERVISOR_* / *hypercall* / privcmd_call functions, and any function with an HVC in it."""
    chosen = []
    ordered = sorted(prog.functions, key=lambda f: f.addr)
    for i, f in enumerate(ordered):
        size = f.size
        if not size:
            nxt = next((g.addr for g in ordered[i + 1:] if g.addr > f.addr), f.addr + 256)
            size = min(nxt - f.addr, 256)
        code = prog.read(f.addr, size)
        if _NAME.search(f.name) or contains_hvc(code, prog.isa, f.thumb):
            chosen.append(f)
    return chosen
