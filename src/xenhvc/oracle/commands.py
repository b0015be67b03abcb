"""``xenhvc oracle`` and ``xenhvc diff``: the real-Xen oracle on the command line (registered by
xenhvc.cli). Like every xenhvc command they get their streams from click's context object
``(stdout: binary, stderr: text, stdin)``."""
from __future__ import annotations

import difflib

import click

from ..errors import UsageError
from ..stop import ExitCode
from .compare import load_exceptions, transcript_lines

ORACLE_EPILOG = """\b
The exit code is how the guest stopped, read from Xen's log with the
codes of `xenhvc run` (0 poweroff, 10 reboot, 11 suspend, 12 crash,
13 watchdog, 14 soft_reset, 15 other reason, 21 --timeout reached);
3 if Xen refused the image, 69 if QEMU or Xen is not installed."""

DIFF_EPILOG = """\b
Exit codes: 0 the transcripts and the exit codes are identical, 1 they
differ; 2 usage error, 3 bad image, 69 QEMU or Xen not installed."""


def _boot(image: str, domid: int, bootargs: str, timeout: float, initrd: str | None):
    from . import boot_dom0, boot_domu

    _check(domid, timeout, initrd)
    if domid == 0:
        return boot_dom0(image, bootargs=bootargs, timeout=timeout, initrd=initrd)
    return boot_domu(image, bootargs=bootargs, timeout=timeout)


def _check(domid: int, timeout: float, initrd: str | None) -> None:
    if timeout <= 0:
        raise UsageError("--timeout must be positive")
    if domid not in (0, 1):
        raise UsageError(f"--domid {domid}: real Xen 4.17 numbers dom0less domains from 1, so the oracle runs "
                         "dom0 (--domid 0) or domain 1 (--domid 1)")
    if initrd is not None and domid != 0:
        raise UsageError("--initrd: the oracle loads an initramfs for dom0 only (--domid 0)")


_common = [
    click.argument("image", type=click.Path(dir_okay=False)),
    click.option("--domid", type=int, default=0, show_default=True,
                 help="0 boots IMAGE as dom0; 1 as an unprivileged dom0less domU."),
    click.option("--bootargs", default="console=hvc0", show_default=True, help="The guest's /chosen/bootargs."),
    click.option("--initrd", type=click.Path(dir_okay=False), metavar="FILE",
                 help="An initramfs for dom0: a second guest-loader module that Xen places and "
                      "describes in /chosen (linux,initrd-start/end)."),
    click.option("--timeout", type=float, default=30.0, show_default=True,
                 help="Kill QEMU after this many seconds of wall time."),
]


def _options(func):
    for decorator in reversed(_common):
        func = decorator(func)
    return func


@click.command("oracle", epilog=ORACLE_EPILOG)
@_options
@click.option("--log", "log_file", metavar="FILE", help="Write Xen's log to FILE instead of stderr.")
@click.pass_obj
def oracle_cmd(io, image, domid, bootargs, initrd, timeout, log_file):
    """Boot IMAGE on real Xen 4.17 under QEMU and report what the guest did.

    stdout carries the guest's console transcript; Xen's log goes to stderr as "(XEN) ..." lines
    (or to --log FILE), then the stop reason."""
    stdout, stderr, _ = io
    result = _boot(image, domid, bootargs, timeout, initrd)
    stdout.write(result.console)
    stdout.flush()
    log_text = "".join(f"(XEN) {line}\n" for line in result.xen_log)
    if log_file is None:
        stderr.write(log_text)
    else:
        try:
            with open(log_file, "w") as f:
                f.write(log_text)
        except OSError as e:
            raise UsageError(f"cannot write the log to {log_file}: {e.strerror}") from None
    stderr.write(f"xenhvc: real Xen: {result.describe()}, {result.elapsed:.2f} s\n")
    return int(result.exit_code)


@click.command("diff", epilog=DIFF_EPILOG)
@_options
@click.option("--strip-timestamps", is_flag=True, help='Compare kernel lines without their "[ seconds ]" stamps.')
@click.option("--exceptions", type=click.Path(dir_okay=False), metavar="FILE",
              help="Leave out lines matching the patterns of this TOML file ([[exception]] pattern, reason).")
@click.pass_obj
def diff_cmd(io, image, domid, bootargs, initrd, timeout, strip_timestamps, exceptions):
    """Run IMAGE on the model and on real Xen 4.17 and compare.

    Prints a unified diff of the two console transcripts (nothing if they agree) and a final line
    about the two exit codes."""
    from ..loader.image import read_image
    from ..session import RunConfig, run_image

    stdout, _, _ = io
    kernel = read_image(image)  # a bad image is refused before QEMU starts
    _check(domid, timeout, initrd)
    keep = {"strip_timestamps": strip_timestamps,
            "exceptions": load_exceptions(exceptions) if exceptions else ()}
    model = run_image(kernel, RunConfig(bootargs=bootargs, domid=domid, timeout=timeout, initrd=initrd))
    real = _boot(image, domid, bootargs, timeout, initrd)
    diff = list(difflib.unified_diff(transcript_lines(model.console, **keep), transcript_lines(real.console, **keep),
                                     "xenhvc model", "real Xen 4.17", lineterm=""))
    for line in diff:
        stdout.write(line.encode(errors="backslashreplace") + b"\n")
    model_code, real_code = ExitCode(model.exit_code), real.exit_code
    same = model_code == real_code
    verdict = "identical" if not diff and same else "DIFFERENT"
    stdout.write(f"transcripts {'identical' if not diff else 'differ'}; exit codes: model {int(model_code)} "
                 f"({model_code.name}), real Xen {int(real_code)} ({real_code.name}): {verdict}\n".encode())
    stdout.flush()
    return 0 if not diff and same else 1
