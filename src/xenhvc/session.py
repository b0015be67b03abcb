"""The Python API: boot an image as a Xen domain on the emulator and run it.

    >>> from xenhvc import run_image
    >>> result = run_image("examples/hello-a64.Image")
    >>> result.console, result.stop.exit_code
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

from .errors import UsageError
from .hypervisor.build import DEBIAN_4_17, XenBuild
from .hypervisor.context import ConsoleInput, NoInput
from .hypervisor.domain import make_domain
from .hypervisor.xen import Xen
from .loader.devicetree import DeviceTreeSpec, build_dtb
from .loader.image import KernelImage, parse_image, read_image, zimage_code_end
from .loader.place import DEFAULT_MEMORY, MemoryBank, default_ram_base, place_domain
from .stop import StopReason
from .trace import TraceRecord

MIN_MEMORY = 4 << 20
MAX_MEMORY = 2 << 30


@dataclass(frozen=True)
class RunConfig:
    memory: int = DEFAULT_MEMORY
    ram_base: int | None = None  # default: where Xen puts this kind of domain
    bootargs: str = "console=hvc0"
    domid: int = 0
    debug_build: bool = False
    max_instructions: int | None = None
    timeout: float | None = 60.0
    #: keep the decoded hypercall trace in RunResult.trace (run_image's on_trace streams it
    #: either way)
    trace: bool = False
    #: make every Nth hypercall_preempt_check() say yes (0: never), to exercise continuations
    preempt_every: int = 0
    build: XenBuild = DEBIAN_4_17
    #: an initramfs (a file or its bytes), loaded after the DTB as Xen's place_modules puts it
    initrd: str | Path | bytes | None = None
    #: time from the guest code run instead of the host clock, and fixed device-tree seeds:
    #: two runs of the same image print the same bytes
    deterministic: bool = False


@dataclass(frozen=True)
class RunResult:
    console: bytes
    stop: StopReason
    trace: tuple[TraceRecord, ...]
    log: tuple[str, ...]  # Xen's own messages (what real Xen prints as "(XEN) ...")
    warnings: tuple[str, ...]  # xenhvc's (e.g. a hypercall that is not modelled yet)
    image: KernelImage
    entry: int
    dtb_addr: int
    initrd: tuple[int, int] | None = None  # (start, end) as /chosen describes it
    #: hypercalls the native fast path answered from its memo of the model's pure answers
    fast_hypercalls: int = 0
    #: counter reads (CNTVCT/CNTPCT, AArch64) the native hook answered
    native_counter_reads: int = 0
    #: SMCCC calls the native fast path answered from its memo of the model's pure answers
    fast_smccc_calls: int = 0
    #: Unicorn's block-start exit checks rewritten into inline tests (cpu/tbstart.py)
    inline_exit_checks: int = 0

    @property
    def exit_code(self) -> int:
        return int(self.stop.exit_code)


@dataclass
class _Sinks:
    console: bytearray = field(default_factory=bytearray)
    log: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def run_image(image: str | Path | bytes | KernelImage, config: RunConfig = RunConfig(), *,
              console_in: ConsoleInput | None = None,
              on_console: Callable[[bytes], None] | None = None,
              on_log: Callable[[str], None] | None = None,
              on_warning: Callable[[str], None] | None = None,
              on_trace: Callable[[TraceRecord, int], None] | None = None) -> RunResult:
    """Load ``image`` the way Xen's domain builder does and run it until it stops.

    ``on_trace(record, count)`` gets the trace as it happens: ``count`` calls in a row that
    each made ``record`` (more than one where the same pure call repeats). RunResult.trace
    holds the records only with ``config.trace``."""
    from .cpu.machine import Limits, Machine  # Unicorn is imported only when something runs

    kernel = _as_image(image)
    _check_config(config)
    privileged = config.domid == 0
    base = config.ram_base if config.ram_base is not None else default_ram_base(config.memory, privileged)
    bank = MemoryBank(base, config.memory)
    initrd = _read_initrd(config.initrd)
    dt_spec = DeviceTreeSpec(bank=bank, bootargs=config.bootargs, privileged=privileged,
                             evtchn_ppi=0 if privileged else 15, initrd=(0, 0) if initrd else None,
                             seeds=_seeds(config.deterministic) if privileged else None)
    # Xen writes dummy 64-bit linux,initrd-start/end into /chosen, places the modules by the
    # tree's size, then fills them in place (initrd_load): same size, so build the tree twice
    layout = place_domain(kernel, bank, len(build_dtb(dt_spec)), len(initrd))
    if initrd:
        dt_spec = replace(dt_spec, initrd=(layout.initrd_addr, layout.initrd_addr + len(initrd)))
    dtb = build_dtb(dt_spec)
    modules = ((layout.dtb_addr, dtb),) + (((layout.initrd_addr, initrd),) if initrd else ())

    sinks = _Sinks()

    def console_out(data: bytes) -> None:
        sinks.console += data
        if on_console:
            on_console(data)

    def log(line: str) -> None:
        sinks.log.append(line)
        if on_log:
            on_log(line)

    def warn(line: str) -> None:
        sinks.warnings.append(line)
        if on_warning:
            on_warning(line)

    machine = Machine(kernel.arch, bank, deterministic=config.deterministic)
    if kernel.format == "zimage":  # its kernel appears in RAM only once it has decompressed itself
        machine.patch_after_decompression(min([seg.addr for seg in layout.segments] + [addr for addr, _ in modules]),
                                          zimage_code_end(kernel.segments[0].data))
    machine.load(layout.segments, modules)
    machine.boot(layout.entry, layout.thumb, layout.dtb_addr)
    domain = make_domain(config.domid)
    build = config.build if config.build.debug == config.debug_build else _with_debug(config.build, config.debug_build)
    xen = Xen(kernel.arch, build, domain, machine.mem, machine.cpu, console_out,
              console_in or NoInput(), log, tracing=config.trace or on_trace is not None, warn=warn, on_trace=on_trace,
              memory_pages=config.memory >> 12, preempt_every=config.preempt_every, keep_trace=config.trace,
              clock=machine.instruction_clock if config.deterministic else None)
    machine.attach(xen, config.debug_build)
    if config.deterministic and not machine.counts_instructions:
        raise UsageError("--deterministic needs xenhvc's compiled extension (xenhvc.cpu.native), "
                         "which this installation lacks: reinstall with a C compiler present")
    stop = machine.run(xen, Limits(config.max_instructions, config.timeout or None))
    return RunResult(bytes(sinks.console), stop, tuple(xen.trace), tuple(sinks.log), tuple(sinks.warnings), kernel,
                     layout.entry, layout.dtb_addr, dt_spec.initrd, machine.fast_hypercalls,
                     machine.native_counter_reads, machine.fast_smccc_calls, machine.inline_exit_checks)


def _seeds(deterministic: bool) -> tuple[bytes, bytes]:
    """dom0's /chosen rng-seed and kaslr-seed: fresh, as QEMU makes them, or fixed."""
    if deterministic:
        import hashlib

        return hashlib.sha256(b"xenhvc rng-seed").digest(), hashlib.sha256(b"xenhvc kaslr-seed").digest()[:8]
    return os.urandom(32), os.urandom(8)


def _with_debug(build: XenBuild, debug: bool) -> XenBuild:
    return replace(build, debug=debug)


def _read_initrd(initrd: str | Path | bytes | None) -> bytes:
    if initrd is None or isinstance(initrd, bytes):
        return initrd or b""
    try:
        return Path(initrd).read_bytes()
    except OSError as e:
        raise UsageError(f"cannot read the initrd {initrd}: {e.strerror or e}") from None


def _as_image(image: str | Path | bytes | KernelImage) -> KernelImage:
    if isinstance(image, KernelImage):
        return image
    if isinstance(image, bytes):
        return parse_image(image)
    return read_image(image)


def _check_config(config: RunConfig) -> None:
    if not MIN_MEMORY <= config.memory <= MAX_MEMORY or config.memory % (2 << 20):
        raise UsageError(f"--memory must be a multiple of 2M between {MIN_MEMORY >> 20}M and {MAX_MEMORY >> 20}M")
    if config.ram_base is not None and config.ram_base % (2 << 20):
        raise UsageError("the RAM base must be 2 MiB aligned")
    if not 0 <= config.domid < 0x7FF0:
        raise UsageError("--domid must be between 0 and 32751")
    if config.preempt_every < 0:
        raise UsageError("--preempt-every must not be negative")
    if config.max_instructions is not None and config.max_instructions <= 0:
        raise UsageError("--max-instructions must be positive")
