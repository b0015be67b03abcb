"""Debian's stock arm64 kernel as dom0 (guests/linux/build.sh puts it and two busybox initramfs in
.cache/linux): to its init and power-off on the model, deterministically, interactively on hvc0,
and line for line against real Xen 4.17 (guests/linux/transcript-exceptions.toml lists the lines
that may differ, each with its reason). Without the files these skip, except under CI (CI set),
where set-up must have fetched them."""
from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from xenhvc.oracle import boot_dom0
from xenhvc.oracle.compare import load_exceptions, transcript_lines
from xenhvc.session import RunConfig, run_image
from xenhvc.stop import ExitCode

from tests.conftest import ROOT
from tests.oracle.conftest import needs_oracle

LINUX = ROOT / ".cache" / "linux"
IMAGE, INITRD, SHELL_INITRD = LINUX / "Image", LINUX / "initramfs.cpio.gz", LINUX / "initramfs-shell.cpio.gz"
BOOTARGS = "console=hvc0 earlycon=xenboot rdinit=/init"
EXCEPTIONS = ROOT / "guests" / "linux" / "transcript-exceptions.toml"
ARMHF = LINUX / "armhf"  # the stretch: Debian's armhf (LPAE) zImage as an AArch32 dom0
ARMHF_EXCEPTIONS = ROOT / "guests" / "linux" / "transcript-exceptions-armhf.toml"

_missing = [p.name for p in (IMAGE, INITRD, SHELL_INITRD) if not p.is_file()]
if _missing and os.environ.get("CI"):
    raise RuntimeError(f"CI: .cache/linux lacks {', '.join(_missing)}: scripts/setup.sh should have built them")
pytestmark = pytest.mark.skipif(bool(_missing), reason="no kernel/initramfs in .cache/linux (bash guests/linux/build.sh)")

INIT_OUTPUT = re.compile(
    rb"\nxenhvc-init: uname -a\r?\nLinux \(none\) \S+ .* aarch64 GNU/Linux\r?\n"
    rb"xenhvc-init: /proc/cmdline\r?\nconsole=hvc0 earlycon=xenboot rdinit=/init\r?\n"
    rb"xenhvc-init: poweroff -f\r?\n\[ *[0-9.]+\] reboot: Power down\r?\n$")


@pytest.fixture(scope="module")
def deterministic_boot():
    return run_image(IMAGE, RunConfig(initrd=INITRD, bootargs=BOOTARGS, deterministic=True, timeout=300))


def test_boots_to_init_and_powers_off(deterministic_boot):
    r = deterministic_boot
    assert r.stop.exit_code is ExitCode.POWEROFF, r.stop.describe()
    assert b"Xen 4.17 support found" in r.console
    assert INIT_OUTPUT.search(r.console), r.console[-600:]
    # PSCI SYSTEM_OFF is what Linux's poweroff uses under Xen (it prints the same under real Xen)
    assert r.warnings == () or all("not modelled" not in w for w in r.warnings), r.warnings


def test_deterministic_runs_print_the_same_bytes(deterministic_boot):
    again = run_image(IMAGE, RunConfig(initrd=INITRD, bootargs=BOOTARGS, deterministic=True, timeout=300))
    assert again.console == deterministic_boot.console
    stamps = [float(t) for t in re.findall(rb"^\[ *([0-9.]+)\] ", again.console, re.M)]
    assert stamps[-1] > 0.1 and stamps == sorted(stamps)  # timestamps included, and they advance


def test_interactive_shell_on_hvc0():
    proc = subprocess.run(
        [sys.executable, "-m", "xenhvc.cli", "run", "--timeout", "120", "--initrd", str(SHELL_INITRD),
         "--bootargs", BOOTARGS, str(IMAGE)],
        input=b"echo hello-from-dom0; uname -m; poweroff -f\n", capture_output=True, timeout=300)
    out = proc.stdout.replace(b"\r\n", b"\n")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert b"\nhello-from-dom0\naarch64\n" in out
    assert re.search(rb"\[ *[0-9.]+\] reboot: Power down\n$", out)


@needs_oracle
def test_transcript_is_real_xens_but_for_the_listed_exceptions():
    exceptions = load_exceptions(EXCEPTIONS)
    model = run_image(IMAGE, RunConfig(initrd=INITRD, bootargs=BOOTARGS, timeout=300))
    real = boot_dom0(IMAGE, bootargs=BOOTARGS, initrd=INITRD, timeout=120)
    assert (model.stop.exit_code, real.exit_code) == (ExitCode.POWEROFF, ExitCode.POWEROFF)
    # the native hook answered counter reads and the Spectre-workaround SMCCC calls (made on each
    # entry from user space), with the MMU on
    assert model.native_counter_reads > 100 and model.fast_smccc_calls > 100
    ours = transcript_lines(model.console, strip_timestamps=True, exceptions=exceptions)
    theirs = transcript_lines(real.console, strip_timestamps=True, exceptions=exceptions)
    assert len(theirs) > 200 and any("xenhvc-init: poweroff -f" in line for line in theirs)
    assert ours == theirs
    # what Xen logs about dom0 (its unhandled SMCCC calls, its vGIC's complaints) is the same
    dom0_lines = [line for line in real.xen_log if line.startswith("d0v0")]
    assert dom0_lines and list(model.log) == dom0_lines
    # every exception is needed: each matches a line of at least one side
    both = transcript_lines(model.console, strip_timestamps=True) + transcript_lines(real.console, strip_timestamps=True)
    unused = [e.pattern.pattern for e in exceptions if not any(e.pattern.search(line) for line in both)]
    assert not unused, f"exceptions that match nothing (remove them): {unused}"


@pytest.mark.skipif(not (ARMHF / "zImage").is_file(), reason="no armhf kernel in .cache/linux/armhf (armhf not in apt)")
@needs_oracle
def test_armhf_kernel_runs_its_init_and_powers_off_as_on_real_xen():
    exceptions = load_exceptions(EXCEPTIONS) + load_exceptions(ARMHF_EXCEPTIONS)
    initrd = ARMHF / "initramfs.cpio.gz"
    model = run_image(ARMHF / "zImage", RunConfig(initrd=initrd, bootargs=BOOTARGS, timeout=300))
    assert model.stop.exit_code is ExitCode.POWEROFF, model.stop.describe()
    assert re.search(rb"\nLinux \(none\) \S+ .* armv7l GNU/Linux\r?\n", model.console)
    real = boot_dom0(ARMHF / "zImage", bootargs=BOOTARGS, initrd=initrd, timeout=120)
    assert real.exit_code is ExitCode.POWEROFF
    ours = transcript_lines(model.console, strip_timestamps=True, exceptions=exceptions)
    theirs = transcript_lines(real.console, strip_timestamps=True, exceptions=exceptions)
    assert ours == theirs
