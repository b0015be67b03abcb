"""Register and memory access on the hot path through Unicorn's C API.

Unicorn's high-level Python binding costs about 1-3 us per register access (it picks a register
class and allocates a ctypes object every time); the trap path calls the C functions directly
with preallocated buffers. Pinned to unicorn 2.1.4's binding layout (``uclib``, ``Uc._uch``);
with any other layout it falls back to the public API."""
from __future__ import annotations

import ctypes

from unicorn import Uc

from .binding import uclib as _uclib


class RegIO:
    def __init__(self, uc: Uc, word_bits: int):
        self.uc = uc
        handle = getattr(uc, "_uch", None)
        self.fast = _uclib is not None and handle is not None
        if self.fast:
            self._h = handle
            self._buf = (ctypes.c_uint64 if word_bits == 64 else ctypes.c_uint32)()
            self._ref = ctypes.byref(self._buf)
            self._mem = ctypes.create_string_buffer(8)
            self._reg_read = _uclib.uc_reg_read
            self._reg_write = _uclib.uc_reg_write
            self._mem_read = _uclib.uc_mem_read
            self.read = self._fast_read
            self.write = self._fast_write
        else:
            self.read = uc.reg_read
            self.write = uc.reg_write

    def batch_reader(self, regs: tuple):
        """A function reading all of ``regs`` in one call into Unicorn, returning their values. An
        entry is a register id, or (CP-register id, the binding's CP-register struct)."""
        if not self.fast:
            return lambda: [self.read_cp(*r) if isinstance(r, tuple) else self.uc.reg_read(r) for r in regs]
        n = len(regs)
        ctype = type(self._buf)
        cells = [r[1] if isinstance(r, tuple) else ctype() for r in regs]
        ids = (ctypes.c_int * n)(*[r[0] if isinstance(r, tuple) else r for r in regs])
        ptrs = (ctypes.c_void_p * n)(*[ctypes.addressof(b) for b in cells])
        batch, h = _uclib.uc_reg_read_batch, self._h
        getters = [(lambda b=b: b.val) if isinstance(r, tuple) else (lambda b=b: b.value) for r, b in zip(regs, cells)]
        plain = all(not isinstance(r, tuple) for r in regs)

        def read_all() -> list[int]:
            batch(h, ids, ptrs, n)
            if plain:
                return [b.value for b in cells]
            return [g() for g in getters]

        return read_all

    def read_cp(self, reg_id: int, cp_struct) -> int:
        """A system (coprocessor) register, given the binding's preallocated CP-register struct."""
        if self.fast:
            self._reg_read(self._h, reg_id, ctypes.byref(cp_struct))
            return cp_struct.val
        return self.uc.reg_read(reg_id, tuple(getattr(cp_struct, f) for f, _ in cp_struct._fields_[:-1]))

    def write_cp(self, reg_id: int, cp_struct, value: int) -> None:
        """Write a system (coprocessor) register through the binding's preallocated struct."""
        cp_struct.val = value
        if self.fast:
            self._reg_write(self._h, reg_id, ctypes.byref(cp_struct))
        else:
            self.uc.reg_write(reg_id, tuple(getattr(cp_struct, f) for f, _ in cp_struct._fields_))

    def _fast_read(self, reg_id: int) -> int:
        self._reg_read(self._h, reg_id, self._ref)
        return self._buf.value

    def _fast_write(self, reg_id: int, value: int) -> None:
        self._buf.value = value
        self._reg_write(self._h, reg_id, self._ref)

    def read_u32(self, addr: int) -> int:
        """A 32-bit little-endian word of guest-physical memory."""
        if self.fast:
            if self._mem_read(self._h, addr, self._mem, 4) == 0:
                return int.from_bytes(self._mem.raw[:4], "little")
        return int.from_bytes(self.uc.mem_read(addr, 4), "little")
