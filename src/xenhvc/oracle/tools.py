"""Finding the oracle's tools: ``qemu-system-aarch64`` on PATH and Debian's Xen 4.17 arm64 binary
(``.cache/xen/boot/xen-4.17-arm64`` under the project root, or ``$XENHVC_XEN``)."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

from ..errors import ToolMissingError

QEMU = "qemu-system-aarch64"
XEN_ENV = "XENHVC_XEN"
XEN_RELATIVE = Path(".cache") / "xen" / "boot" / "xen-4.17-arm64"
INSTALL_HINT = "run `bash scripts/setup.sh` from the xenhvc repository to install it"


def find_qemu() -> str:
    """The path of ``qemu-system-aarch64``, or ToolMissingError."""
    path = shutil.which(QEMU)
    if path is None:
        raise ToolMissingError(f"{QEMU} not found on PATH (Debian package qemu-system-arm): {INSTALL_HINT}")
    return path


def _candidates() -> list[Path]:
    env = os.environ.get(XEN_ENV)
    if env:
        return [Path(env)]
    here = Path(__file__).resolve()
    # src/xenhvc/oracle/tools.py -> the project root is three levels above the package
    roots = [p for p in here.parents if (p / "pyproject.toml").is_file()] + [Path.cwd()]
    return [root / XEN_RELATIVE for root in roots]


def find_xen() -> Path:
    """The Xen 4.17 arm64 hypervisor binary (its embedded version string must say 4.17)."""
    candidates = _candidates()
    for path in candidates:
        if path.is_file():
            try:
                data = path.read_bytes()
            except OSError as e:
                raise ToolMissingError(f"cannot read Xen at {path}: {e.strerror}; {INSTALL_HINT}") from None
            if not _says_4_17(data):
                raise ToolMissingError(f"{path} is not Xen 4.17; {INSTALL_HINT}")
            return path
    where = f"${XEN_ENV}={candidates[0]}" if os.environ.get(XEN_ENV) else str(candidates[0])
    raise ToolMissingError(f"Xen 4.17 for arm64 not found at {where}: {INSTALL_HINT}")


def _says_4_17(data: bytes) -> bool:
    """Debian's build embeds its version as e.g. ``4.17.7+13-g2445b30a44-0+deb12u1`` and the
    compatible ``xen,xen-4.17``."""
    return b"xen,xen-4.17" in data or b"4.17." in data
