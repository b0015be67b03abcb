"""Running QEMU: its serial output streamed line by line to a watcher that may end the run early,
a wall-time limit, and QEMU's whole process group killed on every way out (timeout, early stop,
exception, Python's exit, and, on Linux, the death of this process)."""
from __future__ import annotations

import atexit
import os
import select
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Callable

from ..errors import XenhvcError


class OracleError(XenhvcError):
    """QEMU or Xen failed in a way that says nothing about the guest."""

    exit_code = 70


_LIVE: set[int] = set()  # process-group ids of QEMUs still running


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    _LIVE.discard(pgid)


@atexit.register
def _kill_all_at_exit() -> None:
    for pgid in list(_LIVE):
        _kill_group(pgid)


def _die_with_parent() -> None:  # runs in the child between fork and exec
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        except Exception:
            pass


@dataclass(frozen=True)
class Completed:
    output: bytes  # serial output (QEMU's stdout) as received
    stderr: str  # QEMU's own diagnostics
    returncode: int | None  # None: we killed it
    stopped_early: bool  # the watcher asked to stop
    timed_out: bool
    elapsed: float


# The watcher sees every complete output line (with its line end) and returns True to end the run.
Watcher = Callable[[bytes], bool]


def run_qemu(argv: list[str], timeout: float, watch: Watcher, cwd: str) -> Completed:
    """Run ``argv`` with stdin from /dev/null, until it exits, ``watch`` returns True, or ``timeout``
    seconds of wall time have passed."""
    err_path = os.path.join(cwd, "qemu.stderr")
    start = time.monotonic()
    with open(err_path, "wb") as err:
        try:
            proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err, cwd=cwd,
                                    start_new_session=True, preexec_fn=_die_with_parent)
        except OSError as e:
            raise OracleError(f"cannot start {argv[0]}: {e.strerror}") from None
    _LIVE.add(proc.pid)
    out = bytearray()
    pending = b""
    stopped = timed_out = False
    try:
        fd = proc.stdout.fileno()
        deadline = start + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                timed_out = True
                break
            ready, _, _ = select.select([fd], [], [], min(left, 0.5))
            if not ready:
                continue
            chunk = os.read(fd, 65536)
            if not chunk:  # QEMU closed its stdout: it is exiting
                try:
                    proc.wait(timeout=max(1.0, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    timed_out = True
                break
            out += chunk
            pending += chunk
            *lines, pending = pending.split(b"\n")
            if any(watch(line + b"\n") for line in lines):
                stopped = True
                break
    finally:
        if proc.poll() is None:
            _kill_group(proc.pid)
        _LIVE.discard(proc.pid)
        proc.stdout.close()
    returncode = proc.wait()
    elapsed = time.monotonic() - start
    if stopped or timed_out:
        returncode = None
    with open(err_path, "rb") as f:
        stderr = f.read().decode(errors="replace")
    return Completed(bytes(out), stderr, returncode, stopped, timed_out, elapsed)
