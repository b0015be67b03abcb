"""The conformance guests: built from guests/ of the source tree with Debian's cross compilers."""
from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from ..errors import ToolMissingError, XenhvcError

ISAS = ("a64", "a32", "t32")
_IMAGE_NAMES = {"a64": "conformance-a64.Image", "a32": "conformance-a32.zImage", "t32": "conformance-t32.zImage"}


def source_root() -> Path:
    """The checkout this package is installed from (the conformance guests are not packaged)."""
    root = Path(__file__).resolve().parents[3]
    if not (root / "guests" / "build.sh").is_file():
        raise ToolMissingError("the conformance guests are only available in a source checkout of xenhvc "
                               "(guests/build.sh not found)")
    return root


def _stale(image: Path, root: Path) -> bool:
    if not image.is_file():
        return True
    built = image.stat().st_mtime
    sources = [p for d in ("guests/runtime", "guests/conformance") for p in (root / d).iterdir()
               if p.suffix in (".c", ".h", ".S", ".ld")]
    sources += [root / "guests" / "build.sh", *(root / "src" / "xenhvc" / "guestgen").glob("*.py"),
                root / "src" / "xenhvc" / "abi" / "hypercalls.py"]
    return any(p.stat().st_mtime > built for p in sources)


def conformance_image(isa: str) -> Path:
    """The built conformance image for ``isa``, building it first if it is missing or stale."""
    root = source_root()
    image = root / "guests" / "build" / _IMAGE_NAMES[isa]
    if _stale(image, root):
        proc = subprocess.run(["bash", str(root / "guests" / "build.sh"), isa], capture_output=True, text=True,
                              env={"PY": sys.executable, "PATH": _path()})
        if proc.returncode != 0:
            last = (proc.stderr.strip().splitlines() or ["(no output)"])[-1]
            raise XenhvcError(f"building the {isa} conformance guest failed: {last}")
    return image


def _path() -> str:
    import os

    return os.environ.get("PATH", "/usr/bin:/bin")


@dataclass(frozen=True)
class GuestTest:
    name: str
    terminal: bool  # ends the domain: runs alone, its exit code is compared too


def list_tests(isa: str) -> tuple[GuestTest, ...]:
    """The tests the guest knows (``xtest=list``, asked of the model)."""
    from ..session import RunConfig, run_image

    result = run_image(conformance_image(isa), RunConfig(bootargs="xtest=list", timeout=30))
    tests = []
    for line in result.console.decode(errors="replace").splitlines():
        line = line.strip()
        if not line or " " in line.replace(" (terminal)", ""):
            continue
        tests.append(GuestTest(line.removesuffix(" (terminal)"), line.endswith("(terminal)")))
    return tuple(tests)
