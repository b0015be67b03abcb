#!/usr/bin/env python3
"""xenhvc against real Xen 4.17 under QEMU, in the same run: medians and ratios.

    .venv/bin/python bench/run.py [--repeat 3] [--quick] [--only linux|compute|trace]

Every workload is a guest image built here with the cross binutils (xenhvc.testing) and run as
a separate process on each side, so process start-up counts on both. The runs of a workload
alternate between the sides (real Xen, xenhvc, real Xen, ...): the machines this runs on are
shared, and their speed drifts by tens of percent within minutes. Real Xen runs with the
oracle's QEMU command line. Not a test: nothing here asserts on time."""
from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from xenhvc.oracle.boot import DOM0_XEN_CMDLINE, MACHINE, QEMU_OPTIONS  # noqa: E402
from xenhvc.oracle.tools import find_qemu, find_xen  # noqa: E402
from xenhvc.testing import assemble_guest  # noqa: E402

XENHVC = str(ROOT / ".venv" / "bin" / "xenhvc")
#: the fewest runs of each side of the --trace comparison
TRACE_REPEAT = 9


def null_loop(isa: str, n: int) -> bytes:
    x = "x" if isa == "a64" else "r"
    nr = "x16" if isa == "a64" else "r12"
    return assemble_guest(isa, f"""
    ldr {x}9, ={n}
    cmp {x}9, #0
    beq 2f
1:  mov {x}0, #0
    mov {x}1, #0
    mov {nr}, #17
    hvc #0xea1
    subs {x}9, {x}9, #1
    bne 1b
2:  shutdown 0
    .ltorg
""")


def compute_loop(n: int) -> bytes:
    return assemble_guest("a64", f"""
    ldr x9, ={n}
    mov x1, #0
1:  add x1, x1, x9
    eor x1, x1, x1, lsr #7
    subs x9, x9, #1
    bne 1b
    shutdown 0
    .ltorg
""")


def mixed(n: int) -> bytes:
    """console writes, event-channel sends (on an unbound port: dropped), multicalls, memory_op."""
    return assemble_guest("a64", f"""
    ldr x9, ={n}
1:  mov x0, #0
    mov x1, #4
    adr x2, msg
    xen_hypercall __HYPERVISOR_console_io
    mov x0, #4
    adr x1, port
    xen_hypercall __HYPERVISOR_event_channel_op
    adr x0, mc
    mov x1, #2
    xen_hypercall __HYPERVISOR_multicall
    mov x0, #3
    adr x1, dom
    xen_hypercall __HYPERVISOR_memory_op
    subs x9, x9, #1
    bne 1b
    shutdown 0
    .ltorg
msg: .ascii "tick"
    .balign 8
port: .word 0
dom: .hword 0x7ff0
    .balign 8
mc: .quad 17, 0, 0, 0, 0, 0, 0, 0
    .quad 17, 0, 7, 0, 0, 0, 0, 0
""")


LINUX = ROOT / ".cache" / "linux"  # guests/linux/build.sh: Debian's arm64 kernel, busybox initramfs
LINUX_BOOTARGS = "console=hvc0 earlycon=xenboot rdinit=/init"


def run_xenhvc(image: Path, extra: list[str] = ()) -> tuple[float, int]:
    return _timed([XENHVC, "run", str(image), "--timeout", "600", *extra])


def run_xen(image: Path, bootargs: str = "console=hvc0", initrd: Path | None = None) -> tuple[float, int]:
    """Real Xen + QEMU from process start to QEMU's exit: -no-reboot makes Xen's halt of the
    machine (dom0 powered off) end QEMU."""
    argv = [find_qemu(), "-M", MACHINE, *QEMU_OPTIONS, "-nographic", "-no-reboot", "-nic", "none",
            "-kernel", str(find_xen()), "-append", DOM0_XEN_CMDLINE,
            "-device", f"guest-loader,addr=0x49000000,kernel={image},bootargs={bootargs}"]
    if initrd is not None:
        argv += ["-device", f"guest-loader,addr=0x50000000,initrd={initrd}"]
    return _timed(argv)


def linux_boot(repeat: int) -> tuple[float, float] | None:
    """Debian's arm64 kernel with the busybox initramfs, start to power-off, on each side."""
    image, initrd = LINUX / "Image", LINUX / "initramfs.cpio.gz"
    if not (image.is_file() and initrd.is_file()):
        print("bench: no .cache/linux (bash guests/linux/build.sh): Linux boot not measured", file=sys.stderr)
        return None
    xen, ours = interleaved(lambda: run_xen(image, LINUX_BOOTARGS, initrd)[0],
                            lambda: run_xenhvc(image, ["--initrd", str(initrd), "--bootargs", LINUX_BOOTARGS])[0],
                            repeat=repeat)
    return xen, ours


def interleaved(*runs, repeat: int) -> list[float]:
    """The median of each of ``runs`` (each returns seconds), run in turns (a, b, ..., a, b, ...)
    so that a machine whose speed drifts during the benchmark (a shared host) weighs on every
    side alike."""
    times: list[list[float]] = [[] for _ in runs]
    for _ in range(repeat):
        for t, run in zip(times, runs):
            t.append(run())
    return [statistics.median(t) for t in times]


def _timed(argv: list[str]) -> tuple[float, int]:
    """Wall seconds and the peak RSS (KiB) of the child."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t = time.perf_counter()
    proc = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                          timeout=900)
    elapsed = time.perf_counter() - t
    if proc.returncode != 0:
        raise SystemExit(f"{argv[0]} exited {proc.returncode}")
    return elapsed, max(before, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)


def timed(runner, image: Path):
    """A run of ``image`` under ``runner``, as a function returning its wall seconds."""
    return lambda: runner(image)[0]


def peak_rss(runner, image: Path) -> int:
    """Peak RSS of one run in a fresh measuring process (ru_maxrss of children is cumulative-max)."""
    code = ("import resource,subprocess,sys;subprocess.run(sys.argv[1:],stdin=subprocess.DEVNULL,"
            "stdout=subprocess.DEVNULL,stderr=subprocess.DEVNULL);"
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    argv = ([XENHVC, "run", str(image), "--timeout", "600"] if runner is run_xenhvc else
            [find_qemu(), "-M", MACHINE, *QEMU_OPTIONS, "-nographic", "-no-reboot", "-nic", "none", "-kernel",
             str(find_xen()), "-append", DOM0_XEN_CMDLINE,
             "-device", f"guest-loader,addr=0x49000000,kernel={image},bootargs=console=hvc0"])
    return int(subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True).stdout)


def compute(d: Path, iterations: int, repeat: int) -> tuple[float, float]:
    """Seconds of guest compute on each side: the loop's run less a one-iteration run's."""
    c0, c = d / "compute0", d / "compute"
    c0.write_bytes(compute_loop(1))
    c.write_bytes(compute_loop(iterations))
    xen, xen0, ours, ours0 = interleaved(timed(run_xen, c), timed(run_xen, c0), timed(run_xenhvc, c),
                                         timed(run_xenhvc, c0), repeat=repeat)
    return xen - xen0, ours - ours0


def trace_cost(d: Path, calls: int, repeat: int) -> dict[str, float]:
    """Microseconds a call of the A64 null loop, xenhvc with --trace (to a file) and without:
    the same calls on both sides. ``calls`` of 5M: at 1M, the 0.1-0.2 s of the calls themselves
    were within the noise of two process runs. At least TRACE_REPEAT runs each: the figure is a
    ratio of two differences of runs of about a second, and the machine's drift alone moved one
    pair's ratio from 0.9 to 1.8."""
    zero, loop = d / "null0-trace", d / "null-trace"
    zero.write_bytes(null_loop("a64", 0))
    loop.write_bytes(null_loop("a64", calls))

    def trace_on(image: Path) -> tuple[float, int]:
        # removed after each run, outside its timing: truncating the last run's 200-odd MB at
        # the next open would be timed in that run
        path = d / "trace.txt"
        try:
            return run_xenhvc(image, ["--trace", str(path)])
        finally:
            path.unlink(missing_ok=True)

    off, off0, on, on0 = interleaved(timed(run_xenhvc, loop), timed(run_xenhvc, zero), timed(trace_on, loop),
                                     timed(trace_on, zero), repeat=max(repeat, TRACE_REPEAT))
    return {"off": (off - off0) / calls * 1e6, "on": (on - on0) / calls * 1e6}


def trace_summary(traced: dict[str, float], calls: int) -> str:
    return (f"xenhvc --trace on vs off, A64 null loop ({calls} calls), us/call: "
            f"{traced['on']:.3f} vs {traced['off']:.3f} ({traced['on'] / traced['off']:.2f}x)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="smaller loops (100k hypercalls)")
    ap.add_argument("--only", choices=["linux", "compute", "trace"], help="run just this workload")
    args = ap.parse_args()
    n = 100_000 if args.quick else 1_000_000
    if args.only == "compute":
        with tempfile.TemporaryDirectory(prefix="xenhvc-bench-") as tmp:
            xen, ours = compute(Path(tmp), n * 500, args.repeat)
        print(f"guest compute ({n * 500} iterations), s: QEMU {xen:.3f}, xenhvc {ours:.3f}, xenhvc/QEMU {ours / xen:.2f}")
        return
    if args.only == "trace":
        with tempfile.TemporaryDirectory(prefix="xenhvc-bench-") as tmp:
            traced = trace_cost(Path(tmp), 5 * n, args.repeat)
        print(trace_summary(traced, 5 * n))
        return
    if args.only == "linux":
        linux = linux_boot(args.repeat)
        if linux:
            print(f"Debian arm64 Linux, start to power-off, s: real Xen+QEMU {linux[0]:.3f}, xenhvc {linux[1]:.3f}, "
                  f"real/xenhvc {linux[0] / linux[1]:.2f}")
        return
    #: xenhvc answers a null hypercall in well under a microsecond: it needs more calls than real
    #: Xen for the loop to stand out of process start-up noise (per-call figures are per call)
    n_fast = 20 * n
    rows = []
    with tempfile.TemporaryDirectory(prefix="xenhvc-bench-") as tmp:
        d = Path(tmp)

        def img(name: str, data: bytes) -> Path:
            (d / name).write_bytes(data)
            return d / name

        for isa in ("a64", "a32"):
            zero = img(f"null0-{isa}", null_loop(isa, 0))
            xen_loop, ours_loop = img(f"null-{isa}-{n}", null_loop(isa, n)), img(f"null-{isa}-{n_fast}", null_loop(isa, n_fast))
            xen, xen0, ours, ours0 = interleaved(timed(run_xen, xen_loop), timed(run_xen, zero),
                                                 timed(run_xenhvc, ours_loop), timed(run_xenhvc, zero), repeat=args.repeat)
            rows.append((f"null hypercall ({isa}), us/call", (xen - xen0) / n * 1e6, (ours - ours0) / n_fast * 1e6))
        n_trace = 5 * n
        traced = trace_cost(d, n_trace, args.repeat)
        tiny = ROOT / "examples" / "hello-a64.Image"
        rows.append(("tiny guest end to end, s", *interleaved(timed(run_xen, tiny), timed(run_xenhvc, tiny), repeat=args.repeat)))
        m = img("mixed", mixed(n // 10))
        rows.append((f"mixed workload ({n // 10} rounds), s",
                     *interleaved(timed(run_xen, m), timed(run_xenhvc, m), repeat=args.repeat)))
        rows.append((f"guest compute ({n * 500} iterations), s", *compute(d, n * 500, args.repeat)))
        rows.append(("peak RSS, MiB (128 MiB guest)", peak_rss(run_xen, tiny) / 1024, peak_rss(run_xenhvc, tiny) / 1024))
        linux = linux_boot(args.repeat)
        if linux:
            rows.append(("Debian arm64 Linux start to power-off, s", *linux))

    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
          f"repeat={args.repeat} (medians; --trace: {max(args.repeat, TRACE_REPEAT)})")
    print(f"{'workload':44} {'real Xen+QEMU':>14} {'xenhvc':>10} {'real/xenhvc':>12}")
    for name, xen, ours in rows:
        print(f"{name:44} {xen:14.3f} {ours:10.3f} {xen / ours if ours else float('nan'):12.2f}")
    print(trace_summary(traced, n_trace))


if __name__ == "__main__":
    main()
