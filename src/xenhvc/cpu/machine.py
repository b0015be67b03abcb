"""A domain on Unicorn: its RAM, its one vCPU, the trap hook, and the run loop with its limits."""
from __future__ import annotations

import ctypes
import mmap
import time
from dataclasses import dataclass
from typing import Callable

from unicorn import (UC_HOOK_INSN_INVALID, UC_HOOK_INTR, UC_HOOK_MEM_FETCH_UNMAPPED, UC_HOOK_MEM_WRITE_UNMAPPED, UC_PROT_ALL,
                     Uc, UcError)
from unicorn.unicorn_const import UC_ERR_FETCH_UNMAPPED, UC_ERR_READ_UNMAPPED, UC_ERR_WRITE_UNMAPPED

from ..arch import Arch
from ..hypervisor.xen import Xen
from ..loader.devicetree import gic_frames
from ..loader.image import Segment
from ..stop import StopKind, StopReason
from . import aarch32, aarch64
from .exitcheck import skip_access_exit_checks
from .gic import VGic
from .guestmem import GuestMemory
from .irq import IrqDelivery
from .native import CodeClock, CodeFetch, FastPath, InlineExitChecks, WallTimer, native_hooks_available
from .tbstart import inline_exit_checks
from .trap import TrapEntry

#: the Unicorn glue for each guest architecture; chosen once, here
CPU_MODULES = {aarch64.ARCH: aarch64, aarch32.ARCH: aarch32}
#: the longest single emu_start when no limit applies (the run loop then simply goes round again)
SLICE_US = 3_600_000_000
#: the guest clock of --deterministic runs: a 1 GHz CPU, counted in 4-byte instructions
NS_PER_INSTRUCTION, INSN_BYTES = 1, 4


@dataclass(frozen=True)
class Limits:
    max_instructions: int | None = None
    timeout: float | None = None  # seconds of wall time


class Machine:
    def __init__(self, arch: Arch, bank, deterministic: bool = False):
        self.glue = glue = CPU_MODULES[arch]
        self.uc = Uc(glue.UC_ARCH, glue.UC_MODE)
        self.uc.ctl_set_cpu_model(glue.UC_CPU)
        self.cpu = glue.Cpu(self.uc)
        self.cpu.configure()
        self.regs = glue.REGS
        self.bank = bank
        # guest RAM is host memory we own (anonymous, committed as the guest touches it), so the
        # trap path reads it without a call into Unicorn; writes still go through Unicorn
        self.ram = mmap.mmap(-1, bank.size)
        self._ram_view = ctypes.c_char.from_buffer(self.ram)
        self.uc.mem_map_ptr(bank.base, bank.size, UC_PROT_ALL, ctypes.addressof(self._ram_view))
        self.mem = GuestMemory(self.uc, bank, self.cpu.mmu_enabled, self.cpu.stage1_walk, self.ram,
                               self.cpu.code_page_key, CodeFetch(self.uc) if CodeFetch.available(self.uc) else None)
        self.cpu.fetch_u32 = self.mem.fetch_u32
        self.trap: TrapEntry | None = None
        self.irq: IrqDelivery | None = None
        #: the guest clock of --deterministic runs (native; see instruction_clock)
        self.clock: CodeClock | None = None
        #: Unicorn's exit check at each block start, made inline (native; cpu/tbstart.py)
        self.exit_checks: InlineExitChecks | None = None
        #: the run's time limit (native); without it, Unicorn's emu_start timeout
        self.timer = WallTimer(self.uc) if native_hooks_available(self.uc) else None
        self.start = 0
        #: generic-timer accesses rewritten in the image (see cpu.sysreg.timer_udf)
        self.timer_sites = 0
        #: time from the code run, not the host clock (see instruction_clock)
        self.deterministic = deterministic
        #: where a self-decompressing image's kernel can be: rewritten at the first trap
        self._late_patch_end: int | None = None
        self._late_patch_due = False
        #: how much of each loaded segment is code to rewrite (None: all)
        self._code_bytes: int | None = None

    def load(self, segments: tuple[Segment, ...], blobs: tuple[tuple[int, bytes], ...]) -> None:
        for seg in segments:
            self._write_ram(seg.addr, seg.data)
            code = len(seg.data) if self._code_bytes is None else min(self._code_bytes, len(seg.data))
            self.timer_sites += self._patch(seg.addr, code)
        for addr, data in blobs:
            self._write_ram(addr, data)

    def patch_after_decompression(self, end: int, code_bytes: int) -> None:
        """The image (a zImage) decompresses its kernel at run time, somewhere in RAM below
        ``end`` (where Xen put the zImage and the boot modules): rewrite that RAM as
        ``patch_code`` rewrites a loaded image, once, at the guest's first trap (the kernel's
        first hypercall or GIC access, after decompression and before its timer starts). At
        load only the image's first ``code_bytes`` are rewritten: the rest is the compressed
        kernel, which a rewritten word would corrupt. Call before ``load``."""
        self._late_patch_end = end
        self._code_bytes = code_bytes

    def _request_late_patch(self) -> None:
        self._late_patch_due = True
        self.uc.emu_stop()  # the rewrite and the translation-cache flush happen between two runs

    def _late_patch(self) -> None:
        self._late_patch_due = False
        count = self._patch(self.bank.base, min(self._late_patch_end, self.bank.end) - self.bank.base)
        if count:
            self.timer_sites += count
            self.uc.ctl_flush_tb()

    def _patch(self, addr: int, length: int) -> int:
        """``patch_code`` over guest memory: in place in RAM, or read and written back through
        Unicorn outside it."""
        if self.bank.contains(addr, length):
            off = addr - self.bank.base
            with memoryview(self.ram) as ram, ram[off:off + length] as code:
                return self.cpu.patch_code(addr, code)
        code = self.uc.mem_read(addr, length)
        count = self.cpu.patch_code(addr, code)
        if count:
            self.uc.mem_write(addr, bytes(code))
        return count

    def _write_ram(self, addr: int, data: bytes) -> None:
        """Before the first instruction: straight into the host memory behind guest RAM (nothing
        is translated yet), or through Unicorn outside it."""
        off = addr - self.bank.base
        if self.bank.contains(addr, len(data)):
            self.ram[off:off + len(data)] = data
        else:
            self.uc.mem_write(addr, data)

    def instruction_clock(self) -> int:
        """Nanoseconds of guest time from the code run so far (--deterministic): one
        instruction a nanosecond, counting 4 bytes an instruction. Needs the native extension."""
        return 0 if self.clock is None else self.clock.executed // INSN_BYTES * NS_PER_INSTRUCTION

    @property
    def fast_hypercalls(self) -> int:
        """Hypercalls the native fast path answered (native.FastPath)."""
        return self.trap.fast.hits if self.trap is not None and self.trap.fast is not None else 0

    @property
    def fast_smccc_calls(self) -> int:
        """SMCCC calls the native fast path answered (native.FastPath)."""
        return self.trap.fast.smccc_hits if self.trap is not None and self.trap.fast is not None else 0

    @property
    def native_counter_reads(self) -> int:
        """Counter reads the native hook answered (native.FastPath)."""
        return self.trap.fast.counter_reads if self.trap is not None and self.trap.fast is not None else 0

    @property
    def inline_exit_checks(self) -> int:
        """Unicorn's block-start exit checks rewritten inline (cpu/tbstart.py)."""
        return 0 if self.exit_checks is None else self.exit_checks.rewritten

    @property
    def counts_instructions(self) -> bool:
        return self.clock is not None

    def boot(self, entry: int, thumb: bool, dtb_addr: int) -> None:
        self.start = self.cpu.boot(entry, thumb, dtb_addr)

    def attach(self, xen: Xen, debug_build: bool) -> None:
        self.trap = TrapEntry(self.uc, self.cpu, self.regs, xen, debug_build, self.bank.contains)
        if self._late_patch_end is not None:
            self.trap.first_trap = self._request_late_patch
        # the native fast path, for runs where a hypercall's answer may come from the memo: no
        # debug-build poisoning, no forced preemption (traced, it logs the calls it answers)
        if native_hooks_available(self.uc) and not (debug_build or xen.preempt_every):
            arch, regs = self.cpu.arch, self.regs
            self.trap.fast = FastPath(
                self.uc, lambda intno: self.trap.on_interrupt(self.uc, intno, None), excp_hvc=self.cpu.excp_hvc,
                pc=regs["pc"], nr=regs[arch.number_reg], args=(regs[arch.arg_regs[0]], regs[arch.arg_regs[1]]),
                result=regs[arch.result_reg], syndrome=self.cpu.syndrome_reg, sctlr_cp=self.cpu.sctlr_cp[0],
                word_mask=arch.word_mask, fid=regs[arch.smccc_regs[0]],
                on_repeat=xen.record_repeats if xen.tracing else None,
                counter=self.cpu.counter_reads())
            if xen.tracing:
                xen.before_record = self.trap.fast.drain
        else:
            self.uc.hook_add(UC_HOOK_INTR, self.trap.on_interrupt)
        # the vGIC where the device tree puts it; dom0 sees the host's interrupt-ID bits, a domU 10
        gic = VGic(intid_bits=16 if xen.domain.privileged else 10, log=xen.log, vcpu=f"d{xen.domain.domid}v0")
        self.irq = IrqDelivery(self.uc, self.cpu, gic, xen, xen.evtchn_irq, on_entry=self.trap.python_entered)
        gic.map(self.uc, *gic_frames(xen.domain.privileged), on_access=self.trap.python_entered,
                after_write=self.irq.after_mmio_write)
        self.trap.irq = self.cpu.irq = self.irq
        if self.deterministic and native_hooks_available(self.uc):
            self.clock = CodeClock(self.uc)  # counts from the first instruction
        self.uc.hook_add(UC_HOOK_INSN_INVALID, self.trap.on_invalid)
        self._cover_kernel_half(*self.glue.KERNEL_HALF)

    def _cover_kernel_half(self, begin: int, end: int) -> None:
        """A fetch-unmapped hook over addresses no physical address reaches, for its side effect.
        Unicorn 2.1.4 ends each block translation by scanning its whole software TLB
        (tlb_reset_dirty_by_vaddr, to re-mark the block's virtual page as clean for writes)
        unless a memory hook covers the block's address; a Linux boot translates block after
        block in the kernel's part of the address space, and that scan took a sixth of its
        time (arm64; the armhf boot went from 29.7 to 25.4 s). Unicorn calls this hook with
        physical addresses, and the range starts above the domain's RAM and devices, so it
        never runs, and an unmapped fetch stops the run as before. Skipping the scan for such
        code changes nothing a guest can see: the entry it re-marks is the one for the block's
        own page, which was executable, and Unicorn marks only non-executable entries dirty
        (an entry that was not executable is refilled, clean, by the fetch that translates
        the block)."""
        begin = max(begin, self.bank.end)
        if begin < end:
            self.uc.hook_add(UC_HOOK_MEM_FETCH_UNMAPPED, lambda *_: False, begin=begin, end=end)

    def run(self, xen: Xen, limits: Limits) -> StopReason:
        assert self.trap is not None
        until = (1 << self.cpu.arch.word_bits) - 1
        deadline = None if limits.timeout is None else time.monotonic() + limits.timeout
        if self.glue.SKIP_ACCESS_EXIT_CHECKS and not limits.max_instructions and skip_access_exit_checks(self.uc):
            # (before anything is translated: the field is read as code is translated)
            self._watch_unmapped_writes()
        self.exit_checks = inline_exit_checks(self.uc, self.glue)
        pc = self.start
        while True:
            # One emu_start until the wall-clock limit or the next Xen timer, not periodic slices:
            # resuming after Unicorn's asynchronous timeout stop was seen to corrupt an AArch32
            # guest's state now and then (a Thumb guest's callee-saved register), while resuming
            # after a synchronous stop (count, or our own emu_stop at an HVC) is exact.
            count = limits.max_instructions or 0
            slice_us = 0 if count else self._slice_us(xen, deadline)
            if self.trap.fast is not None:
                self.trap.refresh_fast_path()
            try:
                self._emulate(pc, until, slice_us, count)
            except UcError as e:
                return self._fault(e)
            if self._late_patch_due:
                self._late_patch()
            if self.trap.stop is not None:
                return self._unhandled(*self.trap.stop)
            xen.run_timers()
            if xen.domain.is_shutting_down:
                return StopReason.shutdown(xen.domain.shutdown_reason)
            irq = self.irq
            assert irq is not None
            if xen.domain.blocked:
                stop = self._idle(xen, deadline)
                if stop is not None:
                    return stop
                irq.update()
            elif xen.vtimers.raised:  # a timer fired
                irq.update()
            elif self.cpu.after_wfi(self.cpu.pc()):
                stop = self._wait_for_interrupt(xen, deadline)
                if stop is not None:
                    return stop
            elif count:
                if deadline is None or time.monotonic() < deadline:
                    return StopReason(StopKind.INSTRUCTION_LIMIT,
                                      f"instruction limit reached ({count} instructions)")
            if deadline is not None and time.monotonic() >= deadline:
                return StopReason(StopKind.TIME_LIMIT, f"time limit reached ({limits.timeout:g} s)")
            pc = self.cpu.resume_address()

    def _emulate(self, pc: int, until: int, slice_us: int, count: int) -> None:
        """One emu_start, stopped after ``slice_us`` microseconds (0: no limit)."""
        timer = self.timer
        try:
            if timer is None:
                self.uc.emu_start(pc, until, timeout=slice_us, count=count)
                return
            if slice_us:
                timer.arm(slice_us)
            try:
                self.uc.emu_start(pc, until, count=count)
            finally:
                timer.disarm()
        finally:
            if self.trap is not None and self.trap.fast is not None:
                self.trap.fast.drain()  # the calls it answered, before anything the run loop records

    def _slice_us(self, xen: Xen, deadline: float | None) -> int:
        limit = SLICE_US
        if deadline is not None:
            limit = min(limit, int((deadline - time.monotonic()) * 1e6))
        # Not the generic timers' deadlines: seen here, Debian's arm64 kernel resumed after such
        # asynchronous stops (one per tick) lost a callee-saved register within ~2 s of boot,
        # twice in two runs, and booted on for 100 s without them. A timer PPI is delivered at
        # the exact points instead (HVC, ICC/timer access, WFI, block): Linux reads the counter
        # often; a guest spinning without any of those does not see its timer.
        timer = None if self.deterministic else xen.next_timer_ns(guest_timers=False)
        if timer is not None:
            limit = min(limit, (timer - xen.now_ns()) // 1000 + 1)
        return max(1, limit)

    def _idle(self, xen: Xen, deadline: float | None) -> StopReason | None:
        """The vCPU blocked (SCHEDOP_block/poll). Fast-forward to the next timer, or wait for
        console input; stop when nothing can wake it."""
        xen.poll_console()
        if xen.domain.blocked and not self._sleep(xen, lambda: not xen.domain.blocked, deadline):
            return StopReason(StopKind.IDLE, "the vCPU blocked with no event or timer that could wake it")
        xen.domain.blocked = False
        if xen.domain.is_shutting_down:
            return StopReason.shutdown(xen.domain.shutdown_reason)
        return None

    def _wait_for_interrupt(self, xen: Xen, deadline: float | None) -> StopReason | None:
        """The guest executed WFI (Unicorn stops right after it). Xen traps WFI and blocks the
        vCPU unless an interrupt needs delivery, PSTATE.I regardless
        (vcpu_block_unless_event_pending); the vCPU then resumes after the WFI and takes the
        IRQ if it can. Idle time is fast-forwarded to the next timer; with no timer, the run
        waits for console input (stdin) if more can come."""
        irq = self.irq
        assert irq is not None
        xen.poll_console()
        if not irq.events_pending_nomask():
            if not self._sleep(xen, irq.events_pending_nomask, deadline):
                return StopReason(StopKind.IDLE, "the vCPU waits for an interrupt (WFI) that nothing can raise")
            if xen.domain.is_shutting_down:
                return StopReason.shutdown(xen.domain.shutdown_reason)
        irq.update()
        return None

    def _sleep(self, xen: Xen, woken: Callable[[], bool], deadline: float | None) -> bool:
        """An idle vCPU: fast-forward Xen's time to the next timer and fire it, or, with no timer
        armed, wait for console input that wakes it. False if nothing can wake it."""
        when = xen.next_timer_ns()
        if when is None:
            return self._wait_for_console(xen, woken, deadline)
        xen.advance_to(when)
        xen.run_timers()
        return True

    @staticmethod
    def _wait_for_console(xen: Xen, woken: Callable[[], bool], deadline: float | None) -> bool:
        """Block on the console until what arrives wakes the vCPU; False if nothing typed can
        wake it (input has ended, the ring is full, or the domain has no VIRQ_CONSOLE bound).
        True, without input, when the run's wall-clock limit comes (the run loop then stops)."""
        while xen.console_can_wake():
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                return True
            xen.serial.wait(remaining)
            xen.poll_console()
            if woken():
                return True
        return False

    def _watch_unmapped_writes(self) -> None:
        """Without the check after each access (exitcheck.py), Unicorn runs on to the end of the
        block after a write to unmapped memory (a read still stops at once). A hook on writes
        outside RAM keeps the stop exact where it is seen: it notes the store's address (Unicorn
        puts the PC on it before calling the hook) as the run's stop, the trap hooks handle
        nothing more, and the run ends at the next block. Not over RAM: a memory hook over a
        page makes Unicorn send every store to it down its slow path."""
        for begin, end in ((0, self.bank.base - 1), (self.bank.end, (1 << 64) - 1)):
            if begin <= end:
                self.uc.hook_add(UC_HOOK_MEM_WRITE_UNMAPPED, self._on_unmapped_write, begin=begin, end=end)

    def _on_unmapped_write(self, uc: Uc, _access, _address, _size, _value, _ud) -> bool:
        trap = self.trap
        if trap is not None and trap.stop is None:
            trap.stop = ("data abort (write to unmapped memory)", self.cpu.pc())
        uc.emu_stop()
        return False

    def _fault(self, e: UcError) -> StopReason:
        if self.trap is not None and self.trap.stop is not None:  # noted where it happened
            return self._unhandled(*self.trap.stop)
        what = {UC_ERR_READ_UNMAPPED: "data abort (read of unmapped memory)",
                UC_ERR_WRITE_UNMAPPED: "data abort (write to unmapped memory)",
                UC_ERR_FETCH_UNMAPPED: "prefetch abort (execution from unmapped memory)"}.get(e.errno, str(e))
        return self._unhandled(what, self.cpu.pc())

    @staticmethod
    def _unhandled(what: str, pc: int) -> StopReason:
        return StopReason(StopKind.GUEST_EXCEPTION, f"guest took an unhandled {what} at {pc:#x}")
