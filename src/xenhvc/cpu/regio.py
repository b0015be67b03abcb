"""Register and memory access on the hot path through Unicorn's C API.

Unicorn's high-level Python binding costs about 1-3 us per register access (it picks a register
class and allocates a ctypes object every time); the trap path calls the C functions directly
with preallocated buffers. Pinned to unicorn 2.1.4's binding layout (``uclib``, ``Uc._uch``);
with any other layout it falls back to the public API."""
from __future__ import annotations

import ctypes

from unicorn import Uc

try:
    from unicorn.unicorn_py3.unicorn import uclib as _uclib
except ImportError:  # pragma: no cover - another binding layout
    _uclib = None


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
