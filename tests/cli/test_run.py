"""``xenhvc run`` as a user sees it: stdout, stderr, exit codes, trace files (golden output).
Set XENHVC_UPDATE_GOLDEN=1 to rewrite the golden files after a deliberate change."""
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from xenhvc.cli import main
from xenhvc.testing import assemble_guest

from tests.conftest import EXAMPLES

GOLDEN = Path(__file__).resolve().parent.parent / "golden"


def run_cli(*argv: str, stdin: bytes = b""):
    out, err = io.BytesIO(), io.StringIO()
    rc = main(list(argv), stdout=out, stderr=err, stdin=io.BytesIO(stdin))
    return rc, out.getvalue(), err.getvalue()


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("XENHVC_UPDATE_GOLDEN"):
        path.write_text(text)
    assert text == path.read_text(), f"output differs from {path}"


@pytest.mark.parametrize("image,greeting", [("hello-a64.Image", b"A64"), ("hello-a32.zImage", b"A32"),
                                            ("hello-t32.zImage", b"T32")])
def test_examples_print_their_greeting_and_exit_0(image, greeting):
    rc, out, err = run_cli("run", str(EXAMPLES / image))
    assert rc == 0
    assert out == b"Hello from " + greeting + b" guest on Xen!\n"  # stdout: the guest's bytes only
    assert err == "xenhvc: domain shut down: SHUTDOWN_poweroff (exit 0)\n"


@pytest.mark.parametrize("image", ["hello-a64.Image", "hello-t32.zImage"])
@pytest.mark.parametrize("fmt", ["text", "json"])
def test_trace_golden(tmp_path, image, fmt):
    trace = tmp_path / "trace"
    rc, _, _ = run_cli("run", str(EXAMPLES / image), "--trace", str(trace), "--trace-format", fmt)
    assert rc == 0
    check_golden(f"{image}.trace.{fmt}", trace.read_text())


UNKNOWN = """
    mov x0, #1
    mov x1, #2
    mov x16, #99
    hvc #0xea1
    mov x0, #0
    mov x1, #0
    xen_hypercall __HYPERVISOR_xen_version
    mov x0, #5
    adr x1, 1f
    xen_hypercall __HYPERVISOR_xen_version
    mov x0, #7
    mov x1, #0
    xen_hypercall __HYPERVISOR_xen_version
    mov x0, #0
    adr x1, 1f
    xen_hypercall __HYPERVISOR_memory_op
    ldr w0, =0x80000000
    hvc #0
    shutdown 0
    .ltorg
    .balign 8
1:  .space 16
"""


def test_trace_to_stderr_golden(tmp_path):
    image = tmp_path / "g.Image"
    image.write_bytes(assemble_guest("a64", UNKNOWN))
    rc, out, err = run_cli("run", str(image), "--trace", "-")
    assert rc == 0 and out == b""
    check_golden("unknown.stderr", err)


REPEATED = """
    ldr x9, =5000
1:  mov x0, #0
    mov x1, #0
    mov x16, #17
    hvc #0xea1
    subs x9, x9, #1
    bne 1b
    shutdown 0
    .ltorg
"""


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_a_repeated_call_has_a_line_each_in_the_trace(tmp_path, fmt):
    # 5000 calls, answered natively after the first: still 5000 lines (written in 64 KiB blocks)
    image, trace = tmp_path / "g.Image", tmp_path / "trace"
    image.write_bytes(assemble_guest("a64", REPEATED))
    rc, _, _ = run_cli("run", str(image), "--trace", str(trace), "--trace-format", fmt)
    lines = trace.read_text().splitlines()
    assert rc == 0 and len(lines) == 5001
    assert len(set(lines[:5000])) == 1 and "SCHEDOP_shutdown" in lines[5000]
    assert "xen_version(XENVER_version, NULL) = 0x40011" in lines[0]


def test_help_documents_exit_codes():
    rc, out, err = run_cli("run", "--help")
    assert rc == 0
    text = out.decode() + err
    for line in ("0  the guest powered off", "3  bad image", "20  --max-instructions reached",
                 "30  the guest took an exception"):
        assert line in text


@pytest.mark.parametrize("content,message", [(b"", "truncated"), (b"MZ" + b"\0" * 100, "no known magic")])
def test_bad_image_is_one_line_exit_3(tmp_path, content, message):
    bad = tmp_path / "bad.img"
    bad.write_bytes(content)
    rc, out, err = run_cli("run", str(bad))
    assert rc == 3 and out == b""
    assert err.count("\n") == 1 and err.startswith("xenhvc: ") and message in err
    assert "Traceback" not in err


def test_missing_file(tmp_path):
    rc, _, err = run_cli("run", str(tmp_path / "nope"))
    assert rc == 3 and "cannot read image" in err


def test_image_larger_than_memory(tmp_path):
    big = tmp_path / "big.Image"
    big.write_bytes(assemble_guest("a64", "shutdown 0") + bytes(8 << 20))
    rc, _, err = run_cli("run", str(big), "--memory", "8M")
    assert rc == 3 and "memory" in err and err.count("\n") == 1


@pytest.mark.parametrize("args,message", [(["--memory", "lots"], "not a size"), (["--memory", "3M"], "multiple of 2M"),
                                          (["--arch", "aarch32"], "not aarch32"), (["--bogus"], "No such option"),
                                          (["--max-instructions", "0"], "positive")])
def test_usage_errors_exit_2(args, message):
    rc, _, err = run_cli("run", str(EXAMPLES / "hello-a64.Image"), *args)
    assert rc == 2 and message in err and err.count("\n") == 1


def test_runaway_guest_limits(tmp_path):
    image = tmp_path / "loop.zImage"
    image.write_bytes(assemble_guest("a32", "1: b 1b"))
    rc, _, err = run_cli("run", str(image), "--max-instructions", "50000")
    assert rc == 20 and "instruction limit" in err
    rc, _, err = run_cli("run", str(image), "--timeout", "0.2")
    assert rc == 21 and "time limit" in err


def test_console_read_from_stdin(tmp_path):
    body = """
    mov x0, #1
    mov x1, #8
    adr x2, buf
    xen_hypercall __HYPERVISOR_console_io
    mov x1, x0
    mov x0, #0
    adr x2, buf
    xen_hypercall __HYPERVISOR_console_io
    shutdown 0
    .balign 8
buf: .space 8
"""
    image = tmp_path / "echo.Image"
    image.write_bytes(assemble_guest("a64", body))
    rc, out, _ = run_cli("run", str(image), stdin=b"ping\n")
    assert rc == 0 and out == b"ping\n"


def test_debug_build_flag_changes_registers(tmp_path):
    # hvc #0xfffe is a debug trap on a debug build (prints a character) and an undef on release
    image = tmp_path / "dbg.Image"
    image.write_bytes(assemble_guest("a64", "mov x0, #65\n    hvc #0xfffe\n    shutdown 0"))
    rc, _, err = run_cli("run", str(image), "--debug-build")
    assert rc == 0 and "(XEN) A" in err
    rc, _, err = run_cli("run", str(image))
    assert rc == 30 and "Invalid HVC imm 0xfffe" in err


DECODED = """
    mov x0, #6
    adr x1, au
    xen_hypercall __HYPERVISOR_event_channel_op
    mov x0, #4
    adr x1, au + 4
    xen_hypercall __HYPERVISOR_event_channel_op
    mov x0, #3
    adr x1, dom
    xen_hypercall __HYPERVISOR_memory_op
    mov x0, #5
    mov x1, #1
    xen_hypercall __HYPERVISOR_sched_op
    shutdown 3
    .balign 8
au: .hword 0x7ff0, 0
    .word 0
dom: .hword 0x7ff0
"""


def test_trace_decodes_structs_golden(tmp_path):
    """Struct arguments appear decoded, out-values after the result (issue 4's trace format)."""
    image = tmp_path / "decoded.Image"
    image.write_bytes(assemble_guest("a64", DECODED))
    rc, _, err = run_cli("run", str(image), "--trace", "-")
    assert rc == 12
    check_golden("decoded.stderr", err)


def _console_script(*argv: str, stdout=subprocess.PIPE) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", "from xenhvc.cli import entry; entry()", *argv],
                          stdout=stdout, stderr=subprocess.PIPE, timeout=120)


def test_the_console_script_flushes_everything_before_it_ends(tmp_path):
    # entry() ends the process with os._exit once main() returns: the guest's console, the stop
    # line and the exit code all get out, and a repeated-call trace file is complete
    image, trace = tmp_path / "g.Image", tmp_path / "trace"
    image.write_bytes(assemble_guest("a64", REPEATED))
    proc = _console_script("run", str(EXAMPLES / "hello-a64.Image"))
    assert proc.returncode == 0 and proc.stdout == b"Hello from A64 guest on Xen!\n"
    assert proc.stderr == b"xenhvc: domain shut down: SHUTDOWN_poweroff (exit 0)\n"
    proc = _console_script("run", str(image), "--trace", str(trace))
    assert proc.returncode == 0 and len(trace.read_text().splitlines()) == 5001


def test_the_console_script_into_a_closed_pipe_is_no_traceback():
    reader, writer = os.pipe()
    os.close(reader)
    try:
        proc = _console_script("run", str(EXAMPLES / "hello-a64.Image"), stdout=writer)
    finally:
        os.close(writer)
    assert b"Traceback" not in proc.stderr
