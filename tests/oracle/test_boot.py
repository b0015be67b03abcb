"""Booting real Xen 4.17 under QEMU. Each test checks the wall time a boot took, too."""
import time

import pytest

from xenhvc.oracle import boot_dom0, boot_domu
from xenhvc.stop import ExitCode
from xenhvc.testing import assemble_guest

from tests.conftest import EXAMPLES
from tests.oracle.conftest import needs_binutils, needs_oracle

pytestmark = needs_oracle

HELLO = [("hello-a64.Image", b"A64"), ("hello-a32.zImage", b"A32"), ("hello-t32.zImage", b"T32")]


@pytest.mark.parametrize("image,name", HELLO)
def test_dom0_hello(image, name):
    r = boot_dom0(EXAMPLES / image)
    assert r.console == b"Hello from " + name + b" guest on Xen!\n"
    assert r.exit_code is ExitCode.POWEROFF
    assert r.detail == "Hardware Dom0 halted: halting machine"
    assert r.xen_log[-1] == "Hardware Dom0 halted: halting machine"
    assert any(line.startswith("Xen version 4.17.7") for line in r.xen_log)
    assert b"\r\n" in r.raw and r.elapsed < 10


def test_domu_hello_stop_on_greeting():
    r = boot_domu(EXAMPLES / "hello-a64.Image", observer=False, stop_on=rb"^Hello from A64")
    assert r.console == b"Hello from A64 guest on Xen!\n"
    assert r.exit_code is None and "stop_on" in r.detail
    assert "Xen dom0less mode detected" in r.xen_log
    assert r.domid == 1


def test_domu_hello_shutdown_seen_by_the_observer():
    r = boot_domu(EXAMPLES / "hello-a64.Image", stop_on="never matches")
    assert r.console == b"Hello from A64 guest on Xen!\n"
    assert r.exit_code is ExitCode.POWEROFF
    assert "observer" in r.detail


@needs_binutils
@pytest.mark.parametrize("reason,code", [(1, ExitCode.REBOOT), (2, ExitCode.SUSPEND), (3, ExitCode.CRASH),
                                         (4, ExitCode.WATCHDOG), (5, ExitCode.SOFT_RESET),
                                         (7, ExitCode.SHUTDOWN_OTHER)])
def test_dom0_shutdown_reasons(reason, code):
    start = time.monotonic()
    r = boot_dom0(assemble_guest("a64", f"shutdown {reason}"))
    assert r.exit_code is code, r.detail
    # crash and unknown reasons make Xen wait 5 s before rebooting: the run ends on the line instead
    assert time.monotonic() - start < 4


@needs_binutils
@pytest.mark.parametrize("reason,code", [(1, ExitCode.REBOOT), (3, ExitCode.CRASH)])
def test_domu_shutdown_reasons(reason, code):
    start = time.monotonic()
    r = boot_domu(assemble_guest("a64", f"shutdown {reason}"))
    assert r.exit_code is code, r.detail
    assert r.console == b""
    assert time.monotonic() - start < 4


@needs_binutils
def test_runaway_guest_hits_the_time_limit():
    start = time.monotonic()
    r = boot_dom0(assemble_guest("a64", "1: b 1b"), timeout=3)
    assert r.exit_code is ExitCode.TIME_LIMIT
    assert 3 <= time.monotonic() - start < 6
    assert r.xen_log[-1] == "Freed 348kB init memory."


@needs_binutils
def test_guest_line_without_newline():
    r = boot_dom0(assemble_guest("a64", """
        adr x2, 1f
        mov x0, #0              // CONSOLEIO_write
        mov x1, #3
        xen_hypercall __HYPERVISOR_console_io
        shutdown 0
    1:  .ascii "abc"
        .balign 4
    """))
    assert r.console == b"abc"
    assert r.exit_code is ExitCode.POWEROFF


def test_image_xen_refuses():
    r = boot_dom0(b"not a kernel" * 100)
    assert r.exit_code is ExitCode.BAD_IMAGE
    assert "Could not set up DOM0 guest OS" in r.detail
