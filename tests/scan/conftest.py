"""Build small test binaries with Debian's cross toolchains (skipped when they are missing)."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

CROSS = {"a64": "aarch64-linux-gnu-", "a32": "arm-linux-gnueabihf-", "t32": "arm-linux-gnueabihf-"}


def _need(prefix: str) -> None:
    for tool in ("as", "ld", "objcopy"):
        if shutil.which(prefix + tool) is None:
            pytest.skip(f"{prefix}{tool} is not installed (scripts/setup.sh installs it)")


class Builder:
    def __init__(self, tmp: Path):
        self.tmp = tmp
        self.n = 0

    def elf(self, isa: str, source: str, base: int = 0x10000) -> Path:
        """Assemble ``source`` (with `.syntax unified` and the right state for a32/t32) and link it
        at ``base``; returns the ELF path. ``.raw`` beside it is ``objcopy -O binary``."""
        prefix = CROSS[isa]
        _need(prefix)
        self.n += 1
        d = self.tmp / f"b{self.n}"
        d.mkdir()
        head = ""
        flags: list[str] = []
        if isa != "a64":
            head = ".syntax unified\n.arch armv7-a\n.arch_extension virt\n" + (".thumb\n" if isa == "t32" else ".arm\n")
        (d / "s.S").write_text(head + source + "\n")
        subprocess.run([prefix + "as", *flags, "-o", str(d / "s.o"), str(d / "s.S")], check=True, capture_output=True)
        subprocess.run([prefix + "ld", "-Ttext", hex(base), "-e", "0", "-o", str(d / "s.elf"), str(d / "s.o")],
                       check=True, capture_output=True)
        subprocess.run([prefix + "objcopy", "-O", "binary", "-j", ".text", str(d / "s.elf"), str(d / "s.raw")],
                       check=True, capture_output=True)
        return d / "s.elf"


@pytest.fixture
def build(tmp_path) -> Builder:
    return Builder(tmp_path)


def by_function(sites):
    return {s.function: s for s in sites}
