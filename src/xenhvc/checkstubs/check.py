"""check-stubs as a function: a file in, one :class:`StubReport` per stub out."""
from __future__ import annotations

from pathlib import Path

from ..errors import ImageError
from .analyze import StubReport, analyze
from .binary import load_program, select_stubs
from .sandbox import Sandbox


def check_bytes(data: bytes, symbols: list[tuple[str, int]] | None = None, isa: str | None = None,
                base: int = 0) -> list[StubReport]:
    prog = load_program(data, list(symbols or ()), isa, base)
    names = {n for n, _ in symbols or ()}
    funcs = [f for f in prog.functions if f.name in names] if names else select_stubs(prog)
    box = Sandbox(prog)
    out = []
    for fn in funcs:
        label = "a64" if prog.isa == "a64" else ("t32" if fn.thumb else "a32")
        out.append(analyze(fn, label, box.run(fn)))
    return out


def check_file(path: str | Path, symbols: list[tuple[str, int]] | None = None, isa: str | None = None,
               base: int = 0) -> list[StubReport]:
    try:
        data = Path(path).read_bytes()
    except OSError as e:
        raise ImageError(f"cannot read {path}: {e.strerror}") from None
    return check_bytes(data, symbols, isa, base)
