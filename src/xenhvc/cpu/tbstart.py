"""Unicorn 2.1.4's exit check at the start of every translated block, made inline.

Unicorn starts each block it translates with a call to helper_check_exit_request, which returns
at once unless the vCPU's icount_decr word is negative (uc_emu_stop from the run's timer, an
interrupt raised, an instruction count reached). QEMU, whose code Unicorn's is, tests that word
inline (its gen_tb_start). In a guest loop of a few instructions the call was a quarter to a
third of the time. native/tbstart.c rewrites each such call in the code Unicorn generates into
QEMU's test, which calls the helper, with the same arguments, when the word is negative: the run
stops, and interrupts are taken, where they were before.

What it needs is private to Unicorn, so this finds it from what can be checked, and installs
nothing unless all of it is found (x86-64 hosts only):

- the helper by its exported name, and in its first instructions the fields it reads (the
  vCPU in uc_struct, the icount_decr word in the vCPU), by their exact code;
- where the vCPU's env is, which TCG's generated code holds in rbp, by writing marker values to
  four general registers through uc_reg_write and finding them in the vCPU (then restoring them);
- TCG's code_gen_buffer and code_gen_ptr, from a pointer in uc_struct to a struct holding, in
  QEMU's order, the prologue (the start of the code buffer's read-write-execute mapping), the
  epilogue, the buffer, the initial buffer and size, the size and the current pointer, and,
  where the first instruction of check_exit_request (exported) reads it, a pointer back to
  the engine (uc_struct can also hold a stale pointer to an engine's freed context).

Every read of Unicorn's memory here goes through /proc/self/mem, so a pointer that leads
nowhere readable is an error to skip, never a fault."""
from __future__ import annotations

import bisect
import ctypes
import os
import platform
import re
import struct

from unicorn import Uc

from .binding import uclib as _uclib
from .native import ExitCheckSite, InlineExitChecks, native_hooks_available

#: the helper's fast path: mov r8, [rdi + cpu]; mov eax, [r8 + icount_decr]; test eax, eax;
#: jns to a ret
HELPER_CODE = re.compile(rb"\x4c\x8b\x87(.{4})\x41\x8b\x80(.{4})\x85\xc0\x79(.)", re.S)
#: the start of check_exit_request, which generates the call: mov rsi, [rdi + uc] (rdi is TCG's
#: context, and this its pointer back to the engine); cmp byte [rsi + no_exit_request], 0
GENERATOR_CODE = re.compile(rb"\x48\x8b\xb7(.{4})\x80\xbe", re.S)
#: how far into struct uc_struct to look for the pointer to TCG's context, and into that
UC_SEARCH, TCG_SEARCH = 0x1000, 0x400
#: how far past the icount_decr word the vCPU's env may start
ENV_SEARCH = 0x400
#: TCGContext from code_gen_prologue: prologue, epilogue, buffer, initial buffer, initial size,
#: size, ptr (u64 each)
TCG_FIELDS = struct.Struct("<7Q")
BUFFER_FIELD, PTR_FIELD = 16, 48
#: at most this much of the code buffer's allocation may be outside its read-write-execute mapping
GUARD = 0x10000
MARKERS = (0x5A17_C0DE_0000_0001, 0x5A17_C0DE_0000_0002, 0x5A17_C0DE_0000_0003, 0x5A17_C0DE_0000_0004)


def inline_exit_checks(uc: Uc, glue) -> InlineExitChecks | None:
    """Install the rewrite on ``uc`` (a vCPU of ``glue``'s architecture, its memory mapped and
    its registers set), or return None where something is not as expected."""
    if platform.machine() != "x86_64" or not native_hooks_available(uc):
        return None
    site = find_site(uc, glue)
    if site is None:
        return None
    try:
        return InlineExitChecks(uc, site)
    except RuntimeError:
        return None


def find_site(uc: Uc, glue) -> ExitCheckSite | None:
    try:
        maps = _Mappings()
    except OSError:  # no /proc
        return None
    try:
        return _find_site(uc, glue, maps)
    finally:
        maps.close()


def _find_site(uc: Uc, glue, maps: _Mappings) -> ExitCheckSite | None:
    helper, generator = (getattr(_uclib, f"{name}_{glue.UNICORN_TARGET}", None)
                         for name in ("helper_check_exit_request", "check_exit_request"))
    if helper is None or generator is None:
        return None
    helper = ctypes.cast(helper, ctypes.c_void_p).value
    raw = maps.read(helper, 64) or b""
    code = HELPER_CODE.match(raw)
    back = GENERATOR_CODE.match(maps.read(ctypes.cast(generator, ctypes.c_void_p).value, 16) or b"")
    if code is None or back is None:
        return None
    skip = code.end() + struct.unpack("b", code.group(3))[0]  # where the jns goes
    if not 0 <= skip < len(raw) or raw[skip] != 0xC3:
        return None
    cpu_field, icount_off = (struct.unpack("<i", g)[0] for g in code.groups()[:2])
    base = uc._uch.value
    raw = maps.read(base + cpu_field, 8)
    if raw is None:
        return None
    icount = struct.unpack("<Q", raw)[0] + icount_off
    env = _find_env(uc, glue, maps, icount)
    tcg = _find_tcg_fields(maps, base, struct.unpack("<i", back.group(1))[0])
    if env is None or tcg is None:
        return None
    fields, lo, hi = tcg
    return ExitCheckSite(helper, icount - env, fields + BUFFER_FIELD, fields + PTR_FIELD, lo, hi)


def _find_env(uc: Uc, glue, maps: _Mappings, icount: int) -> int | None:
    """The address of the vCPU's env: four general registers hold markers for the search."""
    regs, width, offset = glue.ENV_PROBE
    saved = [uc.reg_read(r) for r in regs]
    mask = (1 << (8 * width)) - 1
    try:
        for reg, marker in zip(regs, MARKERS):
            uc.reg_write(reg, marker & mask)
        raw = maps.read(icount, ENV_SEARCH)
        at = -1 if raw is None else raw.find(b"".join((m & mask).to_bytes(width, "little") for m in MARKERS))
    finally:
        for reg, value in zip(regs, saved):
            uc.reg_write(reg, value)
    if at <= 0 or raw.find(raw[at:at + 4 * width], at + 1) >= 0:
        return None
    return icount + at - offset


def _find_tcg_fields(maps: _Mappings, base: int, uc_field: int) -> tuple[int, int, int] | None:
    """(address of code_gen_prologue in TCG's context, the code buffer's mapping) from the
    pointer to that context in uc_struct: the context whose ``uc_field`` points back to ``base``
    (uc_struct can hold stale pointers to the freed context of an engine closed before)."""
    code = maps.code_buffers()
    raw = maps.read(base, UC_SEARCH)
    if raw is None or not code:
        return None
    found = set()
    this = struct.pack("<Q", base)
    for (ptr,) in struct.iter_unpack("<Q", raw):
        block = maps.read(ptr, TCG_SEARCH)
        if block is None or maps.read(ptr + uc_field, 8) != this:
            continue
        for lo, hi in code:
            at = block.find(struct.pack("<Q", lo))
            while 0 <= at <= len(block) - TCG_FIELDS.size:
                if at % 8 == 0 and _is_code_gen(TCG_FIELDS.unpack_from(block, at), lo, hi):
                    found.add((ptr + at, lo, hi))
                at = block.find(struct.pack("<Q", lo), at + 1)
    return found.pop() if len(found) == 1 else None


def _is_code_gen(fields: tuple[int, ...], lo: int, hi: int) -> bool:
    prologue, epilogue, buf, initial, initial_size, size, ptr = fields
    # (the mapping ends with TCG's guard page, not counted in hi)
    return (prologue == initial == lo and lo < epilogue < lo + 0x1000 and hi - lo <= initial_size <= hi - lo + GUARD
            and lo <= buf <= buf + size <= hi and buf <= ptr <= buf + size)


class _Mappings:
    """This process's mappings, read once, and its memory read through /proc/self/mem, which
    answers an address that does not read (unmapped since, or a page that faults) with an error
    rather than a fault."""

    def __init__(self):
        rows = []
        with open("/proc/self/maps") as f:
            for line in f:
                parts = line.split()
                lo, hi = (int(x, 16) for x in parts[0].split("-"))
                rows.append((lo, hi, parts[1], len(parts) < 6))
        rows.sort()
        self.rows = rows
        self._starts = [row[0] for row in rows]
        self._mem = os.open("/proc/self/mem", os.O_RDONLY)

    def close(self) -> None:
        os.close(self._mem)

    def code_buffers(self) -> list[tuple[int, int]]:
        """Anonymous read-write-execute mappings: Unicorn's code buffers."""
        return [(lo, hi) for lo, hi, perms, anon in self.rows if perms.startswith("rwx") and anon]

    def read(self, addr: int, size: int) -> bytes | None:
        """``size`` bytes at ``addr`` when one readable mapping held them all and they read."""
        i = bisect.bisect_right(self._starts, addr) - 1
        if i < 0 or not 0 < addr < 1 << 63:
            return None
        _lo, hi, perms, _anon = self.rows[i]
        if addr + size > hi or not perms.startswith("r"):
            return None
        try:
            data = os.pread(self._mem, size, addr)
        except OSError:
            return None
        return data if len(data) == size else None
