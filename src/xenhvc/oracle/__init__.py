"""The real-Xen oracle: boot an image on Debian's Xen 4.17 (arm64) under ``qemu-system-aarch64``
and capture the guest's console transcript, Xen's log and how the guest stopped.

    >>> from xenhvc.oracle import boot_dom0
    >>> r = boot_dom0("examples/hello-a64.Image")
    >>> r.console, r.exit_code
    (b'Hello from A64 guest on Xen!\\n', <ExitCode.POWEROFF: 0>)
"""
from .boot import boot_dom0, boot_domu
from .process import OracleError
from .result import OracleResult
from .tools import find_qemu, find_xen

__all__ = ["boot_dom0", "boot_domu", "OracleResult", "OracleError", "find_qemu", "find_xen"]
