"""Booting an image on real Xen 4.17 under QEMU: as dom0 (QEMU's guest-loader, the verified
command) or as a dom0less domU (a device tree of our own)."""
from __future__ import annotations

import re
import tempfile
from pathlib import Path

from ..stop import ExitCode
from .dom0less import KERNEL_ADDR, XEN_DOM0LESS_BOOTARGS, dom0less_dtb
from .observer import OBSERVER_IMAGE, WATCHED_DOMID
from .process import Completed, OracleError, run_qemu
from .result import DOMAIN_BUILD_PANIC, PANIC_END, OracleResult, classify_xen_line
from .tools import find_qemu, find_xen
from .transcript import split_line, split_output, undo_crlf

MACHINE = "virt,virtualization=on,gic-version=3"
QEMU_OPTIONS = ["-cpu", "cortex-a57", "-smp", "1", "-m", "1024"]
DOM0_XEN_CMDLINE = "dom0_mem=128M console=dtuart loglvl=all guest_loglvl=all dom0_max_vcpus=1"
DOM0_LOADER_ADDR = 0x49000000  # where the guest-loader (and the observer) puts dom0's kernel
DOM0_INITRD_ADDR = 0x50000000  # and dom0's initrd (112 MiB above the kernel: room for a distro Image)

Pattern = str | bytes | re.Pattern


def boot_dom0(image_path: str | Path | bytes, bootargs: str = "console=hvc0", timeout: float = 30,
              stop_on: Pattern | None = None, initrd: str | Path | bytes | None = None) -> OracleResult:
    """Boot ``image_path`` (or image bytes) as dom0 and return what happened. The run ends when Xen
    says how dom0 stopped (QEMU is killed at once, so a crash does not wait out Xen's 5 s), when a
    guest line matches ``stop_on`` (exit_code None), or after ``timeout`` s (TIME_LIMIT).
    ``initrd`` (a file or bytes) is a second guest-loader module at DOM0_INITRD_ADDR, a
    "multiboot,ramdisk" that Xen copies into dom0's memory and describes in dom0's /chosen."""
    qemu, xen = find_qemu(), find_xen()
    with tempfile.TemporaryDirectory(prefix="xenhvc-oracle-") as tmp:
        image = _stage(image_path, Path(tmp))
        argv = [qemu, "-M", MACHINE, *QEMU_OPTIONS, "-nographic", "-no-reboot", "-nic", "none",
                "-kernel", str(xen), "-append", DOM0_XEN_CMDLINE,
                "-device", f"guest-loader,addr={DOM0_LOADER_ADDR:#x},kernel={_qarg(str(image))},"
                           f"bootargs={_qarg(bootargs)}"]
        if initrd is not None:
            staged = _stage(initrd, Path(tmp), "initrd.img", what="the initrd")
            argv += ["-device", f"guest-loader,addr={DOM0_INITRD_ADDR:#x},initrd={_qarg(str(staged))}"]
        return _boot(argv, tmp, timeout, stop_on, domid=0, mirrored=False)


def boot_domu(image_path: str | Path | bytes, bootargs: str = "", timeout: float = 30,
              stop_on: Pattern | None = None, observer: bool = True) -> OracleResult:
    """Boot ``image_path`` as Xen's dom0less domain 1 (unprivileged). Xen 4.17 logs nothing when a
    domU shuts down, so by default a tiny observer dom0 (see observer.py) mirrors the domU's
    shutdown code as its own, and Xen's "Hardware Dom0 ..." line gives the exit code. With
    ``observer=False`` (the plain dom0less recipe) only ``stop_on`` or the timeout end the run."""
    qemu, xen = find_qemu(), find_xen()
    with tempfile.TemporaryDirectory(prefix="xenhvc-oracle-") as tmp:
        d = Path(tmp)
        image = _stage(image_path, d)
        base = [qemu, "-M", MACHINE, *QEMU_OPTIONS, "-nographic", "-no-reboot", "-nic", "none", "-kernel", str(xen)]
        dumped = _dump_dtb(base, d)
        xen_bootargs = XEN_DOM0LESS_BOOTARGS
        extra: list[str] = []
        dom0 = None
        if observer:
            xen_bootargs += " dom0_mem=128M dom0_max_vcpus=1"
            (d / "observer.img").write_bytes(OBSERVER_IMAGE)
            dom0 = (DOM0_LOADER_ADDR, len(OBSERVER_IMAGE), "")
            extra = ["-device", f"loader,file={_qarg(str(d / 'observer.img'))},addr={DOM0_LOADER_ADDR:#x},force-raw=on"]
        dtb = d / "dom0less.dtb"
        dtb.write_bytes(dom0less_dtb(dumped, image.stat().st_size, bootargs, xen_bootargs=xen_bootargs, dom0=dom0))
        argv = base + ["-dtb", str(dtb),
                       "-device", f"loader,file={_qarg(str(image))},addr={KERNEL_ADDR:#x},force-raw=on", *extra]
        return _boot(argv, tmp, timeout, stop_on, domid=WATCHED_DOMID, mirrored=observer)


def _stage(image: str | Path | bytes, tmp: Path, name: str = "guest.img", what: str | None = None) -> Path:
    """A copy of the image (or of the initrd: ``what``, which makes an unreadable file a usage
    error, as for ``run --initrd``) in the run's directory (QEMU's option syntax then never sees
    odd paths)."""
    if isinstance(image, (bytes, bytearray)):
        data = bytes(image)
    else:
        try:
            data = Path(image).read_bytes()
        except OSError as e:
            from ..errors import ImageError, UsageError

            if what is not None:
                raise UsageError(f"cannot read {what} {image}: {e.strerror or e}") from None
            raise ImageError(f"cannot read {image}: {e.strerror}") from None
    staged = tmp / name
    staged.write_bytes(data)
    return staged


def _qarg(value: str) -> str:
    """A value inside QEMU's comma-separated -device option list."""
    return value.replace(",", ",,")


def _dump_dtb(base: list[str], tmp: Path) -> bytes:
    path = tmp / "virt.dtb"
    argv = [base[0], "-M", f"{MACHINE},dumpdtb={_qarg(str(path))}", *base[3:]]
    done = run_qemu(argv, 30, lambda line: False, str(tmp))
    if done.returncode != 0 or not path.is_file():
        raise OracleError(f"QEMU could not dump its device tree: {_first_line(done.stderr)}")
    return path.read_bytes()


class _Watch:
    """Decides, line by line, whether the run is over."""

    def __init__(self, domid: int, stop_on: Pattern | None):
        self.domid = domid
        self.stop_on = _compile(stop_on)
        self.matched: str | None = None

    def __call__(self, raw_line: bytes) -> bool:
        guest, xen = split_line(undo_crlf(raw_line), self.domid)
        if xen is not None and (classify_xen_line(xen) or PANIC_END.search(xen)):
            return True
        if guest and self.stop_on is not None and self.matched is None:
            text = guest.rstrip(b"\n")
            if self.stop_on.search(text):
                self.matched = text.decode(errors="replace")
                return True
        return False


def _compile(pattern: Pattern | None) -> re.Pattern[bytes] | None:
    if pattern is None:
        return None
    if isinstance(pattern, re.Pattern):
        if isinstance(pattern.pattern, bytes):
            return pattern
        return re.compile(pattern.pattern.encode(), pattern.flags & ~re.UNICODE)
    return re.compile(pattern.encode() if isinstance(pattern, str) else pattern)


def _boot(argv: list[str], tmp: str, timeout: float, stop_on: Pattern | None, *, domid: int,
          mirrored: bool) -> OracleResult:
    if timeout <= 0:
        from ..errors import UsageError

        raise UsageError("the oracle's timeout must be positive")
    watch = _Watch(domid, stop_on)
    done = run_qemu(argv, timeout, watch, tmp)
    console, log = split_output(done.output, domid)
    code, detail = _verdict(done, log, watch, mirrored)
    return OracleResult(console, log, code, detail, done.elapsed, done.output, domid)


def _verdict(done: Completed, log: tuple[str, ...], watch: _Watch, mirrored: bool) -> tuple[ExitCode | None, str]:
    for line in log:
        decided = classify_xen_line(line)
        if decided:
            code, words = decided
            if mirrored:
                return code, f"d{WATCHED_DOMID} shut down, mirrored by the observer dom0: {words}"
            return code, words
    panic = _panic_message(log)
    if panic is not None:
        if DOMAIN_BUILD_PANIC.search(panic) or not any(l.startswith("Freed ") for l in log):
            return ExitCode.BAD_IMAGE, f"Xen panicked before the guest ran: {panic}"
        return ExitCode.INTERNAL, f"Xen panicked: {panic}"
    if watch.matched is not None:
        return None, f"stopped on a guest line matching stop_on: {watch.matched!r}"
    if done.timed_out:
        return ExitCode.TIME_LIMIT, f"time limit of {done.elapsed:.1f} s reached (QEMU killed)"
    if done.returncode not in (0, None):
        raise OracleError(f"QEMU failed (exit {done.returncode}): {_first_line(done.stderr)}")
    raise OracleError("QEMU exited without Xen saying why: " + (log[-1] if log else "no output from Xen at all"))


def _panic_message(log: tuple[str, ...]) -> str | None:
    for i, line in enumerate(log):
        if line.startswith("Panic on CPU") and i + 1 < len(log):
            return log[i + 1].strip()
    return None


def _first_line(text: str) -> str:
    lines = [l for l in text.splitlines() if l.strip()]
    return lines[0].strip() if lines else "no message"
