"""Trap entry: the UC_HOOK_INTR callback that plays Xen's do_trap_guest_sync for HVCs.

Hot path: a Xen hypercall reads the number register and only as many argument registers as the
hypercall's arity, calls the model, writes the result register. Tracing reads all five
arguments of numbers outside the table so unknown calls show what the guest passed."""
from __future__ import annotations

from unicorn import Uc

from ..abi.errno import Errno
from ..abi.hypercalls import ARM_TABLE
from ..abi.xen import DEBUG_POISON, SMCCC_HVC_IMM, XEN_HYPERCALL_TAG
from ..hypervisor.xen import Xen
from .regio import RegIO

#: the exceptions Unicorn raises that xenhvc takes into the guest's vectors (cpu.take_exception):
#: undefined instruction, SVC, prefetch abort, data abort, breakpoint; others (an SMC) stop the run
TAKEN = frozenset({1, 2, 3, 4, 7})
EXCEPTION_NAMES = {1: "undefined instruction", 2: "supervisor call (SVC)", 3: "prefetch abort",
                   4: "data abort", 5: "IRQ", 6: "FIQ", 7: "breakpoint", 13: "SMC", 16: "semihosting call"}


class UcRegs:
    """x0..x7 / r0..r7 read and written on demand, for SMCCC; remembers what was written."""

    def __init__(self, uc: Uc, ids: tuple[int, ...], mask: int):
        self.uc, self.ids, self.mask = uc, ids, mask
        #: Unicorn register id -> value, for each register set since the last clear
        self.written: dict[int, int] = {}

    def get(self, n: int) -> int:
        return self.uc.reg_read(self.ids[n])

    def set(self, n: int, value: int) -> None:
        value &= self.mask
        self.uc.reg_write(self.ids[n], value)
        self.written[self.ids[n]] = value


class TrapEntry:
    def __init__(self, uc: Uc, cpu, regs: dict[str, int], xen: Xen, debug_build: bool, in_ram):
        arch = cpu.arch
        self.uc, self.cpu, self.xen = uc, cpu, xen
        self.io = cpu.io
        self.debug_build = debug_build
        self.in_ram = in_ram
        self.excp_hvc = cpu.excp_hvc
        self.regs = regs
        self.pc_id = regs["pc"]
        self.nr_id = regs[arch.number_reg]
        self.arg_ids = tuple(regs[r] for r in arch.arg_regs)
        self.result_id = regs[arch.result_reg]
        self.mask = arch.word_mask
        self.smccc_regs = UcRegs(uc, tuple(regs[r] for r in arch.smccc_regs), arch.word_mask)
        #: PC, the number register and all five argument registers in one read
        # (and, where the CPU reports it, the syndrome that holds the HVC immediate; else SCTLR,
        # to know whether the HVC's address is virtual)
        self.syndrome = cpu.syndrome_reg is not None
        extra = (cpu.syndrome_reg,) if self.syndrome else (cpu.sctlr_cp,)
        self.read_hvc_frame = self.io.batch_reader((self.pc_id, self.nr_id, *self.arg_ids, *extra))
        self.stop: tuple[str, int] | None = None  # (kind, pc) of a guest exception that ends the run
        self.excp_udef = cpu.excp_udef
        #: interrupt delivery (irq.IrqDelivery), set by the machine
        self.irq = None
        #: the native fast path in front of this hook (native.FastPath), set by the machine
        self.fast = None
        #: called once, at the first trap of the run (Machine.patch_after_decompression)
        self.first_trap = None

    def _first(self) -> None:
        hook, self.first_trap = self.first_trap, None
        hook()

    def python_entered(self) -> None:
        """Any Python hook other than the interrupt hook's own half (which refreshes it at its
        exit) may change what the native fast path relies on (an armed timer, a pending
        interrupt): it stays off until the interrupt hook's next exit or the next run. And in a
        traced run, the calls it answered come before anything Python records or prints."""
        fast = self.fast
        if fast is not None:
            fast.allow(False)
            fast.drain()

    def on_interrupt(self, uc: Uc, intno: int, _user_data) -> None:
        fast = self.fast
        if fast is None:
            self._on_interrupt(uc, intno)
            return
        fast.drain()  # (the fast path stays as it was: nothing runs it until this returns)
        self._on_interrupt(uc, intno)
        self.refresh_fast_path()

    def _on_interrupt(self, uc: Uc, intno: int) -> None:
        if self.stop is not None:  # the run is ending (a fault the emulator ran past): nothing more
            uc.emu_stop()
            return
        if self.first_trap is not None:
            self._first()
        if intno == self.excp_hvc:
            pc, nr, *args = self.read_hvc_frame()
            last = args.pop()
            imm = last & 0xFFFF if self.syndrome else self.cpu.hvc_immediate(pc)
        else:
            pc = self.io.read(self.pc_id)
            if intno == self.excp_udef and self.irq is not None and self.irq.emulate_sysreg(pc):
                return  # an ICC_* system register (AArch64): emulated
            # an SVC, abort, breakpoint or undefined instruction the CPU takes to the guest's
            # vectors, as it would under Xen; without vectors, or for anything else, the run stops
            if not (intno in TAKEN and self._has_vectors() and self.cpu.take_exception(intno) is not None):
                self.stop = (EXCEPTION_NAMES.get(intno, f"exception {intno}"), pc)
                uc.emu_stop()
            return
        if imm == XEN_HYPERCALL_TAG:
            mem = self.xen.ctx.mem
            mem.trap_begins(None if self.syndrome else bool(last & 1))  # SCTLR.M read with the frame
            try:
                self._hypercall(pc, nr, args)
            finally:
                mem.trap_ends()
        elif imm == SMCCC_HVC_IMM:
            self._smccc(pc)
        elif self.debug_build and (imm & 0xFF00) == 0xFF00:
            self._debug_trap(imm & 0xFF, pc)
        else:
            self.xen.invalid_hvc(imm, pc - 4)
            handler = self.cpu.inject_undef()
            if not self.cpu.mmu_enabled() and not self.in_ram(handler):
                self.stop = (f"undefined-instruction exception (HVC #{imm:#x}) with no exception vector "
                             f"at {handler:#x}", pc - 4)
                uc.emu_stop()
                return
        d = self.xen.domain
        if d.is_shutting_down or d.blocked:
            uc.emu_stop()
            return
        irq = self.irq
        if irq is not None:
            gic = irq.gic
            if d.evtchn_irq_raised != irq.seen or gic.pending & gic.enabled or irq.timers.due():
                irq.update()

    def refresh_fast_path(self) -> None:
        """Let the native hook answer pure hypercalls from its memo only while nothing else could
        need the trap entry's attention at a hypercall's exit: no timer armed, no interrupt
        pending in the vGIC or raised by the model, the domain simply running. (It exists only
        for runs without debug-build poisoning or forced preemption.) And counter reads and pure
        SMCCC calls, which are delivery points too (IrqDelivery.update), only while that would do
        nothing: no interrupt the vGIC could signal, no edge to latch, and until the next timer."""
        xen, irq, d, fast = self.xen, self.irq, self.xen.domain, self.fast
        running = not d.is_shutting_down and not d.blocked
        no_edge = irq is None or d.evtchn_irq_raised == irq.seen
        quiet = running and no_edge and not xen.timers_armed() and (irq is None or not irq.gic.pending)
        until = None
        if (running and no_edge and irq is not None and self.first_trap is None
                and not irq.timers.raised and not irq.gic.can_signal()):
            base = xen.host_clock_base_ns()
            until = None if base is None else (base, xen.next_timer_ns())
        fast.allow(quiet, until)

    def on_invalid(self, uc: Uc, _user_data) -> bool:
        """UC_HOOK_INSN_INVALID (AArch32 undefined instructions): an ICC_* MRC/MCR is emulated;
        anything else is taken into the guest's undefined-instruction vector, or, without
        vectors (MMU off, VBAR outside RAM), stops the run."""
        self.python_entered()
        if self.stop is not None:  # as in _on_interrupt
            uc.emu_stop()
            return True
        if self.first_trap is not None:
            self._first()
        pc = self.io.read(self.pc_id)
        if self.irq is not None and self.irq.emulate_sysreg(pc):
            return True
        return self._has_vectors() and self.cpu.take_exception(self.excp_udef) is not None

    def _has_vectors(self) -> bool:
        """Whether the guest can take an exception: its MMU is on (the vectors are virtual), or
        its vector base is in RAM."""
        return self.cpu.mmu_enabled() or self.in_ram(self.cpu.vector_base())

    def _hypercall(self, pc: int, nr: int, args: list[int]) -> None:
        write = self.io.write
        spec = ARM_TABLE.get(nr)
        arity = spec.arity if spec is not None else (5 if self.xen.tracing else 0)
        raw = tuple(args[:arity])
        xen = self.xen
        result = xen.hypercall(nr, raw, pc - 4)
        write(self.result_id, result & self.mask)
        fast = self.fast
        if fast is not None and xen.pure(nr, raw):
            if not fast.tracing:
                fast.remember(nr, args[0] & self.mask, args[1] & self.mask, result)
            elif spec is not None and spec.arity <= 2:  # the memo's key is the record's arguments
                fast.remember(nr, args[0] & self.mask, args[1] & self.mask, result, pc, xen.last_record)
        continuation = self.xen.continuation
        if continuation is not None:
            # preempted: the number and argument registers say how to go on, and the guest
            # re-executes the HVC (all HVC encodings are 4 bytes)
            op, args = continuation
            write(self.nr_id, op & self.mask)
            for reg, value in zip(self.arg_ids, args):
                write(reg, value & self.mask)
            self.cpu.rewind(pc - 4)
            return
        if self.debug_build and result != -Errno.ENOSYS:
            # do_trap_hypercall (!NDEBUG): poison the argument registers the call used, from the
            # highest down to arg2, and the number register
            for i in range(arity - 1, 0, -1):
                write(self.arg_ids[i], DEBUG_POISON)
            write(self.nr_id, DEBUG_POISON)

    def _smccc(self, pc: int) -> None:
        regs = self.smccc_regs
        regs.written.clear()
        fid = regs.get(0) & 0xFFFFFFFF
        self.xen.smccc(regs, pc - 4)
        fast = self.fast
        if fast is not None and not fast.tracing and self.xen.smccc_pure(fid):
            fast.remember_smccc(fid, regs.written)

    def _debug_trap(self, code: int, pc: int) -> None:
        """do_debug_trap (debug builds): 0xFFE0+n prints register n, 0xFFFD "Reached", 0xFFFE a
        character, 0xFFFF the vCPU state. Execution continues after the HVC."""
        xen = self.xen
        if code == 0xFE:
            xen.log(chr(self.uc.reg_read(self.arg_ids[0]) & 0xFF))
        elif code == 0xFD:
            xen.log(f"DOM{xen.domain.domid}: Reached {pc - 4:#x}")
        elif 0xE0 <= code <= 0xEF:
            value = self.uc.reg_read(self.regs[self.cpu.arch.gpr(code - 0xE0)])
            xen.log(f"DOM{xen.domain.domid}: R{code - 0xE0} = {value:#x} at {pc - 4:#x}")
        else:
            xen.log(f"DOM{xen.domain.domid}: Unhandled debug trap {code:#x}")
