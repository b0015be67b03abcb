"""Marks for tests that boot real Xen: skipped, with the reason, where QEMU or Xen is absent."""
from __future__ import annotations

import shutil

import pytest

from xenhvc.errors import ToolMissingError
from xenhvc.oracle import find_qemu, find_xen


def _oracle_missing() -> str | None:
    try:
        find_qemu()
        find_xen()
    except ToolMissingError as e:
        return f"real-Xen oracle unavailable: {e}"
    return None


_MISSING = _oracle_missing()
needs_oracle = pytest.mark.skipif(_MISSING is not None, reason=_MISSING or "")
needs_binutils = pytest.mark.skipif(shutil.which("aarch64-linux-gnu-as") is None
                                    or shutil.which("arm-linux-gnueabihf-as") is None,
                                    reason="cross binutils not installed (bash scripts/setup.sh)")
