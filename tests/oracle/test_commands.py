"""``xenhvc oracle`` and ``xenhvc diff`` as a user runs them."""
import io

import pytest

from xenhvc.cli import main
from xenhvc.testing import assemble_guest

from tests.conftest import EXAMPLES
from tests.oracle.conftest import needs_binutils, needs_oracle

pytestmark = needs_oracle

IMAGES = ["hello-a64.Image", "hello-a32.zImage", "hello-t32.zImage"]


def run_cli(*argv: str):
    out, err = io.BytesIO(), io.StringIO()
    rc = main(list(argv), stdout=out, stderr=err, stdin=io.BytesIO())
    return rc, out.getvalue(), err.getvalue()


@pytest.mark.parametrize("image", IMAGES)
def test_diff_examples_agree(image):
    rc, out, err = run_cli("diff", str(EXAMPLES / image))
    assert rc == 0, (out, err)
    assert out.decode().splitlines() == [
        "transcripts identical; exit codes: model 0 (POWEROFF), real Xen 0 (POWEROFF): identical"]


def test_diff_domu():
    rc, out, err = run_cli("diff", "--domid", "1", str(EXAMPLES / "hello-a64.Image"))
    assert rc == 0, (out, err)


def test_oracle_command(tmp_path):
    log = tmp_path / "xen.log"
    rc, out, err = run_cli("oracle", "--log", str(log), str(EXAMPLES / "hello-a64.Image"))
    assert rc == 0
    assert out == b"Hello from A64 guest on Xen!\n"
    assert log.read_text().splitlines()[-1] == "(XEN) Hardware Dom0 halted: halting machine"
    assert err.startswith("xenhvc: real Xen: Hardware Dom0 halted: halting machine (exit 0)")


def test_oracle_log_to_stderr():
    rc, out, err = run_cli("oracle", str(EXAMPLES / "hello-t32.zImage"))
    assert rc == 0 and out == b"Hello from T32 guest on Xen!\n"
    assert err.splitlines()[0].startswith("(XEN) Xen version 4.17.7")


@needs_binutils
def test_oracle_exit_code_is_the_shutdown_reason(tmp_path):
    path = tmp_path / "reboot.Image"
    path.write_bytes(assemble_guest("a64", "shutdown 1"))
    rc, out, err = run_cli("oracle", str(path))
    assert rc == 10 and out == b""


@needs_binutils
def test_diff_runaway_guest_both_time_out(tmp_path):
    path = tmp_path / "loop.Image"
    path.write_bytes(assemble_guest("a64", "1: b 1b"))
    rc, out, err = run_cli("diff", "--timeout", "2", str(path))
    assert out.decode().splitlines() == [
        "transcripts identical; exit codes: model 21 (TIME_LIMIT), real Xen 21 (TIME_LIMIT): identical"]
    assert rc == 0


def test_diff_shows_a_difference(monkeypatch):
    """A model that printed something else and rebooted: the diff and the exit-code line say so."""
    import dataclasses

    import xenhvc.session
    from xenhvc.stop import StopReason

    real_run = xenhvc.session.run_image

    def wrong_model(*args, **kwargs):
        r = real_run(*args, **kwargs)
        return dataclasses.replace(r, console=b"Hello from a wrong model!\n", stop=StopReason.shutdown(1))

    monkeypatch.setattr(xenhvc.session, "run_image", wrong_model)
    rc, out, err = run_cli("diff", str(EXAMPLES / "hello-a64.Image"))
    assert rc == 1
    assert out.decode().splitlines() == [
        "--- xenhvc model", "+++ real Xen 4.17", "@@ -1 +1 @@", "-Hello from a wrong model!",
        "+Hello from A64 guest on Xen!",
        "transcripts differ; exit codes: model 10 (REBOOT), real Xen 0 (POWEROFF): DIFFERENT"]


def test_oracle_domid_2_is_refused():
    rc, out, err = run_cli("oracle", "--domid", "2", str(EXAMPLES / "hello-a64.Image"))
    assert rc == 2 and len(err.splitlines()) == 1
