"""Unicorn 2.1.4's check after every guest load and store, turned off for AArch64 code.

Unicorn follows each guest load and store it translates with a call that asks whether the
emulation should stop (check_exit_request in its tcg-op.c), so that a memory hook's uc_emu_stop
takes effect right after the access. xenhvc stops the emulator from no memory hook (an unmapped
access stops it by itself, at the access: cpu_loop_exit_restore; the GIC's MMIO callbacks never
stop it), so for it the call is only a cost: TCG saves the guest registers it keeps in host
registers around it and loads them again. Without it a load-heavy A64 loop ran 1.7x faster
here, and Debian's arm64 kernel booted to power-off 10-20% faster (interleaved runs: 4.11 s
against 3.39 s, 4.09/3.19, 3.65/3.26, 3.01/2.59).

Unicorn skips the call while its uc_struct.no_exit_request is set; its Thumb translator sets that
field at every instruction (to whether the instruction is in an IT block), so AArch32 code keeps
the checks. The field is private:
this finds it by the fields around it (the page sizes, the context mode and size, init_done),
confirms it by moving the context mode through uc_ctl, and sets it; where the layout is not
found nothing changes.

The check at the start of every block stays, so uc_emu_stop from an instruction or block hook,
or from another thread (the run's timer), still stops the run at the next block. Not for runs
with an instruction count: Unicorn's counting hook stops the run through the same check."""
from __future__ import annotations

import ctypes
import mmap
import struct

from unicorn import Uc
from unicorn.unicorn_const import UC_CTL_CONTEXT_MODE, UC_CTL_IO_WRITE

from .binding import uclib as _uclib

UC_CTL_CONTEXT_CPU, UC_CTL_CONTEXT_MEMORY = 1, 2
#: how far into struct uc_struct to look
SEARCH = 0x1000
# from target_page_size to init_done: u32 size, u32 size - 1, u64 host page size (twice),
# i32 icache line size, i32 context mode, i32 context size, (4 bytes padding), u64 next_pc,
# bool hook_insert, bool first_tb, bool no_exit_request, bool init_done
LAYOUT = struct.Struct("<IIQQiii4xQ????")


def _context_mode(uc: Uc, mode: int) -> None:
    uc.ctl(UC_CTL_CONTEXT_MODE, UC_CTL_IO_WRITE, ctypes.c_int(mode))


def _find(uc: Uc, raw: bytes) -> int | None:
    context_size = _uclib.uc_context_size(uc._uch)
    host_page = mmap.PAGESIZE
    hits = []
    for off in range(0, len(raw) - LAYOUT.size, 4):
        size, align, host, real, line, mode, ctx, _pc, _hi, _first, no_exit, init = LAYOUT.unpack_from(raw, off)
        if (size and size & (size - 1) == 0 and align == size - 1 and host == real == host_page
                and mode == UC_CTL_CONTEXT_CPU and 0 < ctx <= context_size < ctx + 256 and init and not no_exit
                and 0 < line <= 4096):
            hits.append(off + LAYOUT.size - 2)
    return hits[0] if len(hits) == 1 else None


def skip_access_exit_checks(uc: Uc) -> bool:
    """Translate this CPU's AArch64 loads and stores without the exit check (before the first
    translation); False if the field was not found."""
    off = no_exit_request_offset(uc)
    if off is None:
        return False
    ctypes.c_bool.from_address(uc._uch.value + off).value = True
    return True


def no_exit_request_offset(uc: Uc) -> int | None:
    """Where uc_struct.no_exit_request is, from the start of the struct (an initialised engine:
    after a first mem_map, with the context mode at its default, CPU only), or None."""
    if _uclib is None or getattr(uc, "_uch", None) is None:
        return None
    base = uc._uch.value
    off = _find(uc, ctypes.string_at(base, SEARCH))
    if off is None:
        return None
    # confirm: the context mode, 3 fields before, follows uc_ctl
    mode_at = off - 2 - 8 - 4 - 4 - 4
    _context_mode(uc, UC_CTL_CONTEXT_CPU | UC_CTL_CONTEXT_MEMORY)
    moved = ctypes.c_int32.from_address(base + mode_at).value == UC_CTL_CONTEXT_CPU | UC_CTL_CONTEXT_MEMORY
    _context_mode(uc, UC_CTL_CONTEXT_CPU)
    return off if moved and ctypes.c_int32.from_address(base + mode_at).value == UC_CTL_CONTEXT_CPU else None
