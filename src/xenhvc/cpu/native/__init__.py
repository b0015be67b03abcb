"""The natively filtered unmask watch (watch.c), reached through ctypes.

``UnmaskWatch`` installs one block hook before the guest runs and keeps it: ``arm()`` and
``disarm()`` flip a flag the C hook reads, so arming needs no translation-cache flush. The
Python callback runs only at a block where the guest's IRQ mask bit is clear while armed.
``native_watch(...)`` returns None when the extension was not built or the Unicorn binding has
another layout; cpu/irq.py then falls back to a Python block hook."""
from __future__ import annotations

import ctypes
from typing import Callable

from unicorn import UC_HOOK_BLOCK, Uc

try:
    from unicorn.unicorn_py3.unicorn import uclib as _uclib
except ImportError:  # pragma: no cover - another binding layout
    _uclib = None

try:
    from . import _watch
except ImportError:  # pragma: no cover - built without a C compiler
    _watch = None

BlockCallback = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_uint64, ctypes.c_uint32, ctypes.c_void_p)


class _WatchState(ctypes.Structure):
    """struct xenhvc_watch in watch.c."""
    _fields_ = [("reg_read", ctypes.c_void_p), ("on_unmask", ctypes.c_void_p), ("reg", ctypes.c_int32),
                ("armed", ctypes.c_int32), ("mask", ctypes.c_uint64), ("blocks", ctypes.c_uint64),
                ("executed", ctypes.c_uint64)]


class UnmaskWatch:
    def __init__(self, uc: Uc, lib: ctypes.CDLL, reg: int, mask: int, on_unmask: Callable[[int], None]):
        self._callback = BlockCallback(lambda _uc, address, _size, _ud: on_unmask(address))
        self.state = _WatchState(ctypes.cast(_uclib.uc_reg_read, ctypes.c_void_p).value,
                                 ctypes.cast(self._callback, ctypes.c_void_p).value, reg, 0, mask, 0, 0)
        handle = ctypes.c_size_t()
        status = _uclib.uc_hook_add(uc._uch, ctypes.byref(handle), UC_HOOK_BLOCK,
                                    ctypes.cast(lib.xenhvc_watch_block, ctypes.c_void_p),
                                    ctypes.cast(ctypes.pointer(self.state), ctypes.c_void_p),
                                    ctypes.c_uint64(1), ctypes.c_uint64(0))
        if status != 0:
            raise RuntimeError(f"uc_hook_add failed ({status})")
        self.handle = handle.value

    @property
    def executed(self) -> int:
        """Bytes of guest code run so far (whole blocks, as the emulator ran them)."""
        return self.state.executed

    @property
    def armed(self) -> bool:
        return bool(self.state.armed)

    def arm(self) -> None:
        self.state.armed = 1

    def disarm(self) -> None:
        self.state.armed = 0


def native_watch(uc: Uc, reg: int, mask: int, on_unmask: Callable[[int], None]) -> UnmaskWatch | None:
    """The native unmask watch on ``uc`` (call before the guest first runs), or None."""
    if _watch is None or _uclib is None or getattr(uc, "_uch", None) is None:
        return None
    return UnmaskWatch(uc, ctypes.CDLL(_watch.__file__), reg, mask, on_unmask)
