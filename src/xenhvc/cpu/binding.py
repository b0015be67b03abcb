"""The parts of Unicorn 2.1.4's Python binding that xenhvc reaches past its public API: the
ctypes library of Unicorn's C functions (``uclib``) and the wrapper that turns a Python function
into a hook callback (``uccallback``). Both None with another binding layout: what uses them then
falls back to the public API, or is left out."""
from __future__ import annotations

try:
    from unicorn.unicorn_py3.unicorn import uccallback, uclib
except ImportError:  # pragma: no cover - another binding layout
    uclib = uccallback = None
