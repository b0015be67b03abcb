"""Missing tools give ToolMissingError with one line saying how to install them."""
import io

import pytest

from xenhvc.cli import main
from xenhvc.errors import ToolMissingError
from xenhvc.oracle import boot_dom0, boot_domu, find_xen

from tests.conftest import EXAMPLES


@pytest.fixture
def no_qemu(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))


@pytest.mark.parametrize("boot", [boot_dom0, boot_domu])
def test_missing_qemu(no_qemu, boot):
    with pytest.raises(ToolMissingError) as e:
        boot(EXAMPLES / "hello-a64.Image")
    message = str(e.value)
    assert "\n" not in message
    assert "qemu-system-aarch64" in message and "bash scripts/setup.sh" in message


def test_missing_qemu_on_the_command_line(no_qemu):
    out, err = io.BytesIO(), io.StringIO()
    rc = main(["oracle", str(EXAMPLES / "hello-a64.Image")], stdout=out, stderr=err)
    assert rc == 69
    assert out.getvalue() == b""
    assert len(err.getvalue().splitlines()) == 1 and err.getvalue().startswith("xenhvc: qemu-system-aarch64 not found")


def test_missing_xen(monkeypatch, tmp_path):
    monkeypatch.setenv("XENHVC_XEN", str(tmp_path / "xen"))
    with pytest.raises(ToolMissingError) as e:
        find_xen()
    assert "\n" not in str(e.value) and "bash scripts/setup.sh" in str(e.value)


def test_xen_that_is_not_4_17(monkeypatch, tmp_path):
    fake = tmp_path / "xen"
    fake.write_bytes(b"\0" * 64 + b"4.18.1-1\0xen,xen-4.18\0")
    monkeypatch.setenv("XENHVC_XEN", str(fake))
    with pytest.raises(ToolMissingError, match="not Xen 4.17"):
        find_xen()
