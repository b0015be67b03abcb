"""An initramfs for dom0 on the oracle: the QEMU command line (no QEMU needed), the command-line
checks, and, where guests/linux/build.sh has run, Debian's arm64 kernel booted with it."""
import io
import re
from pathlib import Path

import pytest

from xenhvc.cli import main
from xenhvc.errors import UsageError
from xenhvc.oracle import boot, boot_dom0
from xenhvc.oracle.process import Completed
from xenhvc.stop import ExitCode

from tests.conftest import EXAMPLES, ROOT
from tests.oracle.conftest import needs_oracle

HALTED = b"(XEN) Hardware Dom0 halted: halting machine\r\n"


@pytest.fixture
def argv_of_boot(monkeypatch):
    """boot_dom0 with a fake QEMU that records its argv and the staged files, and halts dom0."""
    seen = {}

    def fake_run_qemu(argv, timeout, watch, cwd):
        seen["argv"] = argv
        seen["files"] = {p.name: p.read_bytes() for p in Path(cwd).glob("*.img")}
        return Completed(HALTED, "", 0, True, False, 0.1)

    monkeypatch.setattr(boot, "find_qemu", lambda: "/q/qemu-system-aarch64")
    monkeypatch.setattr(boot, "find_xen", lambda: "/x/xen")
    monkeypatch.setattr(boot, "run_qemu", fake_run_qemu)
    return seen


def test_initrd_is_a_second_guest_loader(argv_of_boot):
    r = boot_dom0(b"kernel", bootargs="console=hvc0 rdinit=/init", initrd=b"ramdisk")
    assert r.exit_code is ExitCode.POWEROFF
    argv = argv_of_boot["argv"]
    devices = [argv[i + 1] for i, a in enumerate(argv) if a == "-device"]
    assert len(devices) == 2
    assert re.fullmatch(r"guest-loader,addr=0x49000000,kernel=.*/guest\.img,bootargs=console=hvc0 rdinit=/init",
                        devices[0])
    assert re.fullmatch(r"guest-loader,addr=0x50000000,initrd=.*/initrd\.img", devices[1])
    assert argv_of_boot["files"] == {"guest.img": b"kernel", "initrd.img": b"ramdisk"}


def test_no_initrd_no_second_module(argv_of_boot):
    boot_dom0(b"kernel")
    assert sum(a == "-device" for a in argv_of_boot["argv"]) == 1
    assert "initrd.img" not in argv_of_boot["files"]


def test_unreadable_initrd_is_a_usage_error(argv_of_boot, tmp_path):
    with pytest.raises(UsageError, match="cannot read the initrd"):
        boot_dom0(b"kernel", initrd=tmp_path / "missing.cpio")


@pytest.mark.parametrize("command", ["oracle", "diff"])
def test_initrd_is_for_dom0_only(command, tmp_path):
    initrd = tmp_path / "initrd"
    initrd.write_bytes(b"x")
    out, err = io.BytesIO(), io.StringIO()
    rc = main([command, "--domid", "1", "--initrd", str(initrd), str(EXAMPLES / "hello-a64.Image")],
              stdout=out, stderr=err, stdin=io.BytesIO())
    assert rc == 2 and "dom0 only" in err.getvalue() and out.getvalue() == b""


LINUX = ROOT / ".cache" / "linux"


@needs_oracle
@pytest.mark.skipif(not (LINUX / "Image").is_file() or not (LINUX / "initramfs.cpio.gz").is_file(),
                    reason="no Linux kernel and initramfs in .cache/linux (bash guests/linux/build.sh)")
def test_debian_linux_boots_its_initramfs_and_powers_off():
    rc_out, err = io.BytesIO(), io.StringIO()
    rc = main(["oracle", "--initrd", str(LINUX / "initramfs.cpio.gz"),
               "--bootargs", "console=hvc0 earlycon=xenboot rdinit=/init", "--timeout", "60", str(LINUX / "Image")],
              stdout=rc_out, stderr=err, stdin=io.BytesIO())
    out = rc_out.getvalue().replace(b"\r\n", b"\n")
    assert rc == 0, err.getvalue()[-2000:]
    assert b"Run /init as init process\n" in out
    assert re.search(rb"\nxenhvc-init: uname -a\nLinux \(none\) \S+ .* aarch64 GNU/Linux\n"
                     rb"xenhvc-init: /proc/cmdline\nconsole=hvc0 earlycon=xenboot rdinit=/init\n"
                     rb"xenhvc-init: poweroff -f\n\[ *[0-9.]+\] reboot: Power down\n$", out)
    assert "(XEN) Loading d0 initrd from 0000000050000000" in err.getvalue()
