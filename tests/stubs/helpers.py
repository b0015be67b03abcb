"""Compile generated stubs with Debian's cross gcc and link them into a checkable ELF."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

GCC = {"a64": ("aarch64-linux-gnu-gcc", ["-mgeneral-regs-only"]),
       "a32": ("arm-linux-gnueabihf-gcc", ["-march=armv7ve", "-mfloat-abi=soft", "-marm"]),
       "t32": ("arm-linux-gnueabihf-gcc", ["-march=armv7ve", "-mfloat-abi=soft", "-mthumb"])}


def need_gcc(isa: str) -> str:
    gcc = GCC[isa][0]
    if shutil.which(gcc) is None:
        pytest.skip(f"{gcc} not installed (scripts/setup.sh installs it)")
    return gcc


def build(isa: str, sources: list[Path], out: Path, opt: str = "-O2") -> Path:
    """Compile and link ``sources`` into a static ELF at 0x10000 (no libc, no entry needed)."""
    gcc = need_gcc(isa)
    cmd = [gcc, *GCC[isa][1], opt, "-ffreestanding", "-nostdlib", "-static", "-Wall", "-Wextra", "-Werror",
           "-Wno-unused-function", "-fno-stack-protector", "-Wl,-Ttext=0x10000", "-Wl,-e,0",
           "-Wl,--no-warn-rwx-segments", "-Wl,--build-id=none", "-o", str(out), *map(str, sources)]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=out.parent)
    assert proc.returncode == 0, proc.stderr
    return out
