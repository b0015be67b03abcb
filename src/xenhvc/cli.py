"""The ``xenhvc`` command line. ``main(argv, stdout, stderr, stdin) -> int``: streams are passed in,
so tests drive it exactly as a user would."""
from __future__ import annotations

import contextlib
import os
import select
import sys
from typing import BinaryIO, Callable, TextIO

import click

from .errors import UsageError, XenhvcError
from .stop import ExitCode

EXIT_CODES_HELP = """\b
Exit codes:
   0  the guest powered off (SCHEDOP_shutdown poweroff, PSCI SYSTEM_OFF)
   2  usage error
   3  bad image (corrupt, truncated, unknown format, larger than RAM)
  10  reboot (SHUTDOWN_reboot, PSCI SYSTEM_RESET)
  11  suspend
  12  crash
  13  watchdog (SHUTDOWN_watchdog, or a SCHEDOP_watchdog timer fired)
  14  soft_reset
  15  shutdown with another reason code
  20  --max-instructions reached
  21  --timeout reached
  22  the vCPU blocked with nothing that could ever wake it
  30  the guest took an exception it has no vector for
  40  the guest needs something xenhvc does not model yet
  70  internal error (a bug in xenhvc)"""


def _parse_size(text: str) -> int:
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    t = text.strip().upper().removesuffix("B").removesuffix("I")
    try:
        if t and t[-1] in units:
            return int(t[:-1]) * units[t[-1]]
        return int(t, 0)
    except ValueError:
        raise click.BadParameter(f"{text!r} is not a size (e.g. 128M)") from None


class _StdinInput:
    """CONSOLEIO_read's serial ring: whatever is waiting on stdin, never blocking."""

    def __init__(self, stream: BinaryIO | None):
        self.fd = None
        if stream is not None:
            try:
                self.fd = stream.fileno()
            except (OSError, ValueError, AttributeError):
                self.fd = None
        self.stream = stream
        self.eof = stream is None

    def read(self, limit: int) -> bytes:
        if self.stream is None or self.eof or limit <= 0:
            return b""
        if self.fd is None:  # an in-memory stream (tests)
            data = self.stream.read(limit) or b""
        else:
            ready, _, _ = select.select([self.fd], [], [], 0)
            if not ready:
                return b""
            data = os.read(self.fd, limit)
        if not data:
            self.eof = True
        return data

    def wait(self, timeout: float | None) -> None:
        """Block until stdin has input or is at its end (or ``timeout`` s pass)."""
        if self.fd is not None and not self.eof:
            select.select([self.fd], [], [], timeout)


class _LazyGroup(click.Group):
    """Subcommands imported only when used, so ``xenhvc run`` starts without the scanner's,
    the stub checker's or the oracle's imports."""

    LAZY = {
        "oracle": ("xenhvc.oracle.commands", "oracle_cmd"),
        "diff": ("xenhvc.oracle.commands", "diff_cmd"),
        "conformance": ("xenhvc.conformance.commands", "conformance_cmd"),
        "stubs": ("xenhvc.stubs.commands", "stubs_cmd"),
        "check-stubs": ("xenhvc.checkstubs.commands", "check_stubs_cmd"),
        "scan": ("xenhvc.scan.commands", "scan_cmd"),
        "density": ("xenhvc.scan.commands", "density_cmd"),
    }

    def list_commands(self, ctx):
        return sorted([*super().list_commands(ctx), *self.LAZY])

    def get_command(self, ctx, name):
        if name in self.LAZY:
            import importlib

            module, attr = self.LAZY[name]
            return getattr(importlib.import_module(module), attr)
        return super().get_command(ctx, name)


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="xenhvc")
def cli() -> None:
    """The Xen-on-Arm hypercall interface: run guests on a model of Xen 4.17, hold it against real Xen."""


@cli.command(epilog=EXIT_CODES_HELP)
@click.argument("image", type=click.Path(dir_okay=False))
@click.option("--arch", type=click.Choice(["auto", "aarch64", "aarch32"]), default="auto", show_default=True,
              help="Guest architecture; auto takes it from the image.")
@click.option("--memory", default="128M", show_default=True, help="Guest RAM size.")
@click.option("--bootargs", default="console=hvc0", show_default=True, help="/chosen/bootargs for the guest.")
@click.option("--initrd", type=click.Path(dir_okay=False), metavar="FILE",
              help="An initramfs, loaded after the DTB and described in /chosen (linux,initrd-start/end).")
@click.option("--domid", type=int, default=0, show_default=True,
              help="Domain id: 0 runs the image as dom0 (privileged), any other as an unprivileged domU.")
@click.option("--debug-build", is_flag=True, help="Behave as a Xen debug build (poison clobbered registers).")
@click.option("--preempt-every", type=int, default=0, metavar="N",
              help="Preempt long-running hypercalls at every Nth preemption point (continuations).")
@click.option("--trace", "trace_to", metavar="FILE|-", help="Write a decoded hypercall trace (- for stderr).")
@click.option("--trace-format", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--max-instructions", type=int, help="Stop after this many guest instructions.")
@click.option("--timeout", type=float, default=60.0, show_default=True,
              help="Stop after this many seconds of wall time (0: no limit).")
@click.option("--deterministic", is_flag=True,
              help="Guest time from the code run (1 GHz), not the host clock, and fixed device-tree "
                   "seeds: two runs print the same bytes, timestamps included.")
@click.pass_obj
def run(io, image, arch, memory, bootargs, initrd, domid, debug_build, preempt_every, trace_to, trace_format,
        max_instructions, timeout, deterministic):
    """Boot IMAGE as a Xen 4.17 domain on Arm and run it until it stops.

    IMAGE is an arm64 Linux Image (plain or gzip), an Arm zImage, or an ELF file. stdout carries
    exactly the bytes the guest writes with console_io; Xen's messages and the stop reason go to
    stderr."""
    from .loader.image import read_image
    from .session import RunConfig, run_image

    stdout, stderr, stdin = io
    kernel = read_image(image)
    if arch != "auto" and kernel.arch.name != arch:
        raise UsageError(f"{image} is an {kernel.arch.name} image, not {arch}")
    config = RunConfig(memory=_parse_size(memory), bootargs=bootargs, domid=domid, debug_build=debug_build,
                       max_instructions=max_instructions, timeout=timeout, trace=False,
                       preempt_every=preempt_every, initrd=initrd, deterministic=deterministic)

    def on_console(data: bytes) -> None:
        stdout.write(data)
        stdout.flush()

    def on_log(line: str) -> None:
        stderr.write(f"(XEN) {line}\n")

    def on_warning(line: str) -> None:
        stderr.write(f"xenhvc: warning: {line}\n")

    with contextlib.ExitStack() as stack:
        on_trace = None
        if trace_to is not None:
            if trace_to == "-":
                def write(data: bytes) -> None:
                    stderr.write(data.decode())
            else:
                write = _open_trace(stack, trace_to).write
            on_trace = _TraceLines(write, trace_format)

        result = run_image(kernel, config, console_in=_StdinInput(stdin), on_console=on_console, on_log=on_log,
                           on_warning=on_warning, on_trace=on_trace)
    stderr.write(f"xenhvc: {result.stop.describe()}\n")
    return result.exit_code


class _TextOut:
    """Text written to a binary stream (for click's help output)."""

    def __init__(self, stream: BinaryIO):
        self.stream = stream

    def write(self, text: str) -> int:
        self.stream.write(text.encode())
        return len(text)

    def flush(self) -> None:
        self.stream.flush()


class _TraceLines:
    """The run's on_trace: each record as a text or JSON line, a repeated one written in blocks
    of up to 64 KiB (a million identical calls are one record repeated)."""
    BLOCK = 1 << 16

    def __init__(self, write: Callable[[bytes], object], trace_format: str):
        self.write = write
        self.json = trace_format == "json"

    def __call__(self, record, count: int) -> None:
        line = ((record.json() if self.json else record.text()) + "\n").encode()
        per_block = max(1, self.BLOCK // len(line))
        blocks, rest = divmod(count, per_block)
        if blocks:
            block = line * per_block
            for _ in range(blocks):
                self.write(block)
        if rest:
            self.write(line * rest)


def _open_trace(stack: contextlib.ExitStack, path: str) -> BinaryIO:
    try:
        return stack.enter_context(open(path, "wb"))
    except OSError as e:
        raise UsageError(f"cannot write trace to {path}: {e.strerror}") from None




def main(argv: list[str] | None = None, stdout: BinaryIO | None = None, stderr: TextIO | None = None,
         stdin: BinaryIO | None = None) -> int:
    stdout = stdout if stdout is not None else sys.stdout.buffer
    stderr = stderr if stderr is not None else sys.stderr
    stdin = stdin if stdin is not None else (sys.stdin.buffer if sys.stdin is not None else None)
    try:
        # click prints --help and --version on sys.stdout: point that at the stream we were given
        with contextlib.redirect_stdout(_TextOut(stdout)):
            rv = cli.main(args=argv if argv is not None else sys.argv[1:], prog_name="xenhvc",
                          standalone_mode=False, obj=(stdout, stderr, stdin))
    except click.exceptions.Exit as e:
        return e.exit_code
    except click.exceptions.Abort:
        stderr.write("xenhvc: aborted\n")
        return 130
    except click.ClickException as e:
        stderr.write(f"xenhvc: {e.format_message()}\n")
        return ExitCode.USAGE
    except XenhvcError as e:
        stderr.write(f"xenhvc: {e}\n")
        return e.exit_code
    except KeyboardInterrupt:
        stderr.write("xenhvc: interrupted\n")
        return 130
    except Exception as e:  # a bug: still one line, never a traceback
        stderr.write(f"xenhvc: internal error: {type(e).__name__}: {e} (please report)\n")
        return ExitCode.INTERNAL
    return rv if isinstance(rv, int) else 0


def entry() -> None:
    """The console script. Once main() has returned (its files closed) and the standard streams
    are flushed, the process ends without tearing down Unicorn's engine and the interpreter's
    heap (about 35 ms after a Linux boot)."""
    code = main()
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError):  # a closed pipe: nothing more can be said there
            pass
    os._exit(code)


if __name__ == "__main__":
    entry()
