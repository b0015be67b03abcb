"""Unicorn glue for AArch64 guests: EL1h under a non-secure EL2 with HCR_EL2.RW, as a Xen guest runs."""
from __future__ import annotations

from unicorn import UC_ARCH_ARM64, UC_MODE_ARM, Uc, UcError
from unicorn import arm64_const as c

from unicorn.unicorn_py3.arch.arm64 import UcRegCP64

from ..hypervisor.context import GuestFault
from .fault import HSR_IL, CpuKind, FaultReader
from .regio import RegIO
from .stage1 import walk_aarch64
from ..hypervisor.vtimer import NS_PER_TICK
from .native import CounterReads
from .sysreg import COUNTER_READ_MASK, COUNTER_READ_UDF, ID_MRS, SysregAccess, decode_a64, rewrite_words, timer_udf
from ..arch import aarch64

ARCH = aarch64.ARCH
UC_ARCH, UC_MODE, UC_CPU = UC_ARCH_ARM64, UC_MODE_ARM, c.UC_CPU_ARM64_A57
#: the register id for system registers by encoding
CP_REG = c.UC_ARM64_REG_CP_REG
EXCP_HVC, EXCP_UDEF = 11, 1
EXCP_PREFETCH_ABORT, EXCP_DATA_ABORT = 3, 4
#: SVC #0 and its exception class
SVC, EC_SVC64 = 0xD4000001, 0x15
#: how fault.py finds the exception's syndrome and address for this CPU
FAULTS = CpuKind(UC_ARCH, UC_MODE, UC_CPU, SVC, 5, EC_SVC64)

REGS = {f"x{i}": getattr(c, f"UC_ARM64_REG_X{i}") for i in range(31)}
REGS |= {"sp": c.UC_ARM64_REG_SP, "pc": c.UC_ARM64_REG_PC, "pstate": c.UC_ARM64_REG_PSTATE}

SCR_EL3 = (3, 6, 1, 1, 0)  # op0, op1, crn, crm, op2
HCR_EL2 = (3, 4, 1, 1, 0)
SCTLR_EL1 = (3, 0, 1, 0, 0)
SPSR_EL1 = (3, 0, 4, 0, 0)
TCR_EL1 = (3, 0, 2, 0, 2)
SCR_NS, SCR_HCE, SCR_RW = 1 << 0, 1 << 8, 1 << 10
HCR_RW, HCR_IMO, HCR_VI = 1 << 31, 1 << 4, 1 << 7
PSR_MODE_EL0T, PSR_MODE_EL1T, PSR_MODE_EL1H = 0x0, 0x4, 0x5
PSR_MODE_MASK = 0x1F
PSR_DAIF = 0x3C0  # D, A, I, F
PSR_F, PSR_I, PSR_A, PSR_D = 0x40, 0x80, 0x100, 0x200
PSR_GUEST64_INIT = PSR_A | PSR_F | PSR_I | PSR_MODE_EL1H
#: the upper half of the 64-bit address space, where a kernel's code runs (TTBR1): no physical
#: address is in it (see Machine._cover_kernel_half)
KERNEL_HALF = (0xFFFF_0000_0000_0000, 0xFFFF_FFFF_FFFF_FFFF)
#: run without Unicorn's check after each load and store (cpu/exitcheck.py)
SKIP_ACCESS_EXIT_CHECKS = True
#: Unicorn's name for this target (its exported symbols end with it), and where four general
#: registers are in its CPU state, env (cpu/tbstart.py): x0..x3, 8 bytes each, from env + 0x40
UNICORN_TARGET = "aarch64"
ENV_PROBE = ((c.UC_ARM64_REG_X0, c.UC_ARM64_REG_X1, c.UC_ARM64_REG_X2, c.UC_ARM64_REG_X3), 8, 0x40)
PSR_MODE_BIT_32 = 0x10
VECTOR64_CURRENT_SP0_BASE, VECTOR64_CURRENT_SPX_BASE = 0x000, 0x200
VECTOR64_LOWER64_BASE, VECTOR64_LOWER32_BASE = 0x400, 0x600
VECTOR64_IRQ = 0x080  # the IRQ entry's offset within each group of four
VECTOR64_GROUPS = (VECTOR64_CURRENT_SP0_BASE, VECTOR64_CURRENT_SPX_BASE, VECTOR64_LOWER64_BASE, VECTOR64_LOWER32_BASE)
WFI = 0xD503207F
#: MRS/MSR with op0 = 3, op1 = 3: where the generic-timer accesses are (sysreg.timer_udf decides)
_TIMER_INSN_MASK, _TIMER_INSN_BITS = 0xFFDF0000, 0xD51B0000
#: the words patch_code looks at: timer MRS/MSR and MRS Xt of a rewritten ID register
_PATCH_PATTERNS = ((_TIMER_INSN_MASK, _TIMER_INSN_BITS), *((0xFFFFFFE0, mrs) for mrs in ID_MRS))
#: TTBRn_EL1 without its ASID
TTBR_BADDR_MASK = (1 << 48) - 1
#: ID_AA64PFR0_EL1 fields that differ between Unicorn's Cortex-A57 and the host Xen reports:
#: QEMU's virt machine (secure=off) has no EL3, and with its GICv3 the CPU interface field is 1
#: (Xen's guest_cpuinfo is the host's, less MPAM/SVE/MTE/AMU/RAS, all zero here)
PFR0_EL3_MASK, PFR0_GIC = 0xF000, 1 << 24
XZR = 31
HSR_EC_UNKNOWN = 0x00


class Cpu:
    """One AArch64 vCPU on Unicorn."""

    arch = ARCH
    excp_hvc = EXCP_HVC
    #: the register holding the HVC syndrome, or None where the immediate is decoded from memory
    syndrome_reg = None  # AArch64: decode the HVC at PC-4
    excp_udef = EXCP_UDEF

    def __init__(self, uc: Uc):
        self.uc = uc
        self.io = RegIO(uc, ARCH.word_bits)
        op0, op1, crn, crm, op2 = SCTLR_EL1
        self._sctlr = UcRegCP64(crn, crm, op0, op1, op2, 0)
        #: (CP-register id, struct) of SCTLR_EL1 for batched reads
        self.sctlr_cp = (c.UC_ARM64_REG_CP_REG, UcRegCP64(crn, crm, op0, op1, op2, 0))
        op0, op1, crn, crm, op2 = TCR_EL1
        self._tcr = UcRegCP64(crn, crm, op0, op1, op2, 0)
        op0, op1, crn, crm, op2 = SPSR_EL1
        self._spsr = UcRegCP64(crn, crm, op0, op1, op2, 0)
        #: the fault of the exception Unicorn raises (take_exception)
        self.faults = FaultReader(uc, FAULTS)
        #: reads an instruction word at a guest virtual address (set by the machine; physical fallback)
        self.fetch_u32 = self.io.read_u32
        #: the interrupt delivery (irq.IrqDelivery) once the machine is attached to Xen
        self.irq = None

    def configure(self) -> None:
        self.uc.cpr_write(*SCR_EL3, SCR_NS | SCR_HCE | SCR_RW)
        self.set_virq(False)

    def set_virq(self, level: bool) -> None:
        """The vCPU's virtual IRQ line: HCR_EL2.VI, with HCR_EL2.IMO routing it to EL1. The CPU
        takes it, as hardware takes a virtual IRQ, while PSTATE.I is clear."""
        self.uc.cpr_write(*HCR_EL2, HCR_RW | HCR_IMO | (HCR_VI if level else 0))

    def boot(self, entry: int, thumb: bool, dtb_addr: int) -> int:
        """Linux arm64 boot protocol (Documentation/arm64/booting.rst) as Xen's domain builder
        sets it: x0 = DTB, x1-x3 = 0, EL1h with A, I, F masked. Returns the start address."""
        self.uc.reg_write(c.UC_ARM64_REG_PSTATE, PSR_GUEST64_INIT)
        for i, value in enumerate((dtb_addr, 0, 0, 0)):
            self.uc.reg_write(REGS[f"x{i}"], value)
        self.uc.reg_write(c.UC_ARM64_REG_PC, entry)
        return entry

    def hvc_immediate(self, pc: int) -> int:
        """The imm16 of the HVC just executed (PC is past it): decoded from the instruction."""
        try:
            return (self.fetch_u32(pc - 4) >> 5) & 0xFFFF
        except GuestFault:  # the HVC's own page no longer translates: treat it as no Xen call
            return -1

    def pc(self) -> int:
        return self.io.read(c.UC_ARM64_REG_PC)

    def rewind(self, pc: int) -> None:
        self.io.write(c.UC_ARM64_REG_PC, pc)

    def resume_address(self) -> int:
        return self.pc()

    def enable_event_delivery(self) -> None:
        """local_event_delivery_enable: clear PSTATE.I."""
        self.uc.reg_write(c.UC_ARM64_REG_PSTATE, self.uc.reg_read(c.UC_ARM64_REG_PSTATE) & ~PSR_I)

    def events_pending(self) -> bool:
        """local_events_need_delivery (the vGIC and evtchn_upcall_pending; IRQs unmasked)."""
        return self.irq.events_pending() if self.irq is not None else False

    # -- interrupts --------------------------------------------------------------------------------
    def irq_masked(self) -> bool:
        return bool(self.io.read(c.UC_ARM64_REG_PSTATE) & PSR_I)

    def irq_vectors(self) -> tuple[int, ...]:
        """Where the CPU enters the guest when it takes an IRQ: the IRQ entry of each of
        VBAR_EL1's four groups."""
        base = self.io.read(c.UC_ARM64_REG_VBAR_EL1)
        return tuple(base + group + VECTOR64_IRQ for group in VECTOR64_GROUPS)

    def interrupted_pc(self) -> int:
        """At an IRQ vector: where the IRQ was taken (ELR_EL1)."""
        return self.io.read(c.UC_ARM64_REG_ELR_EL1)

    def take_exception(self, intno: int) -> int | None:
        """Take the synchronous exception Unicorn raised (SVC, BRK, an abort, an undefined
        instruction) to EL1 as the CPU does (AArch64.TakeException): ESR_EL1 = the syndrome the
        CPU computed, FAR_EL1 = the faulting address for an abort, ELR_EL1 = the PC Unicorn left
        (the instruction after an SVC, else the faulting one). Unicorn hands every exception to
        the interrupt hook instead of taking it. Returns the new PC, or None when the syndrome
        cannot be read (an unknown Unicorn build)."""
        fault = self.faults.read()
        if fault is None:
            return None
        syndrome, vaddress = fault.syndrome, fault.vaddress
        io = self.io
        pstate = io.read(c.UC_ARM64_REG_PSTATE)
        pc = io.read(c.UC_ARM64_REG_PC)
        io.write(c.UC_ARM64_REG_ESR_EL1, syndrome)
        if intno in (EXCP_PREFETCH_ABORT, EXCP_DATA_ABORT):
            io.write(c.UC_ARM64_REG_FAR_EL1, vaddress)
        return self._enter_el1h(pstate, pc, _vector_group(pstate))

    def vector_base(self) -> int:
        """VBAR_EL1."""
        return self.io.read(c.UC_ARM64_REG_VBAR_EL1)

    def _enter_el1h(self, pstate: int, elr: int, offset: int) -> int:
        """SPSR_EL1 = ``pstate``, ELR_EL1 = ``elr``, EL1h with D, A, I, F masked, PC = VBAR_EL1 +
        ``offset``. Returns the new PC. Unicorn keeps the current stack pointer in SP and banks
        the other in SP_EL0/SP_EL1 (as QEMU's aarch64_save_sp/restore_sp do on an EL change): a
        PSTATE write does not switch them, so this does, when the source ran on SP_EL0."""
        io = self.io
        handler = io.read(c.UC_ARM64_REG_VBAR_EL1) + offset
        if pstate & PSR_MODE_MASK in (PSR_MODE_EL0T, PSR_MODE_EL1T):
            io.write(c.UC_ARM64_REG_SP_EL0, io.read(c.UC_ARM64_REG_SP))
            io.write(c.UC_ARM64_REG_SP, io.read(c.UC_ARM64_REG_SP_EL1))
        io.write(c.UC_ARM64_REG_ELR_EL1, elr)
        io.write(c.UC_ARM64_REG_PSTATE, PSR_MODE_EL1H | PSR_DAIF)
        # after the PSTATE write: a CP-register write is what makes Unicorn recompute its cached
        # translation flags (arm_rebuild_hflags), which hold the exception level
        io.write_cp(CP_REG, self._spsr, pstate)
        io.write(c.UC_ARM64_REG_PC, handler)
        return handler

    def sysreg_at(self, pc: int) -> SysregAccess | None:
        """The ICC_* MRS/MSR or rewritten timer access at ``pc`` (the PC of an
        undefined-instruction stop, virtual once the MMU is on), or None."""
        try:
            return decode_a64(self.fetch_u32(pc))
        except (GuestFault, UcError):
            return None

    @staticmethod
    def patch_code(addr: int, code) -> int:
        """Rewrite, in place, the generic-timer MRS/MSR words (and MRS ID_AA64PFR0_EL1) in ``code``
        (a writable buffer: an image segment loaded at ``addr``) into the UDFs that stand for
        them (sysreg.timer_udf). Returns how many were rewritten. Every aligned word with such an encoding is taken for an
        instruction (a word of data with exactly that value would be changed too)."""
        return rewrite_words(addr, code, _PATCH_PATTERNS, timer_udf)

    def get_gpr(self, n: int) -> int:
        return 0 if n == XZR else self.io.read(REGS[f"x{n}"])

    def set_gpr(self, n: int, value: int) -> None:
        if n != XZR:
            self.io.write(REGS[f"x{n}"], value & 0xFFFFFFFFFFFFFFFF)

    def skip(self, pc: int) -> None:
        """Resume at the instruction after the one at ``pc``."""
        self.io.write(c.UC_ARM64_REG_PC, pc + 4)

    def after_wfi(self, pc: int) -> bool:
        """Whether the instruction before ``pc`` is a WFI (Unicorn stops after one)."""
        try:
            return self.io.read_u32(pc - 4) == WFI
        except UcError:
            return False

    def stage1_walk(self, read, va: int):
        """Translate a guest virtual address through the guest's EL1&0 stage-1 tables."""
        io = self.io
        return walk_aarch64(read, va, io.read_cp(c.UC_ARM64_REG_CP_REG, self._tcr),
                            io.read(c.UC_ARM64_REG_TTBR0_EL1), io.read(c.UC_ARM64_REG_TTBR1_EL1))

    @staticmethod
    def counter_reads() -> CounterReads:
        """For the native hook: the counter reads the loader rewrote (timer_udf)."""
        return CounterReads(EXCP_UDEF, COUNTER_READ_UDF, COUNTER_READ_MASK, NS_PER_TICK,
                            tuple(REGS[f"x{n}"] for n in range(31)))

    def id_register(self, name: str) -> int:
        """An ID register as a guest reads it under Xen on the oracle's host (sysreg.ID_REGS)."""
        assert name == "ID_AA64PFR0"
        return self.uc.cpr_read(3, 0, 0, 4, 0) & ~PFR0_EL3_MASK | PFR0_GIC

    def code_page_key(self, va: int):
        """A key under which the translation of code page ``va`` may be remembered, or None: the
        upper (TTBR1) half, the kernel's, with the MMU on, keyed by TTBR1 and TCR. A kernel maps
        its text once, so the fetches that decode trapped instructions (HVC, the rewritten timer
        accesses, ICC_*) skip the walk; the lower half (per process) is walked every time."""
        if not (va >> 55) & 1 or not self.mmu_enabled():
            return None
        io = self.io
        # the table's address, not the ASID in bits 63:48 (Linux keeps its ASIDs in TTBR1: TCR.A1)
        table = io.read(c.UC_ARM64_REG_TTBR1_EL1) & TTBR_BADDR_MASK
        return va >> 12, table, io.read_cp(c.UC_ARM64_REG_CP_REG, self._tcr)

    def mmu_enabled(self) -> bool:
        return bool(self.io.read_cp(c.UC_ARM64_REG_CP_REG, self._sctlr) & 1)

    def inject_undef(self) -> int:
        """Xen's inject_undef64_exception: EC=0 (unknown), IL=1 (an HVC is 32 bits),
        ELR_EL1 = the saved PC (past the HVC), to VBAR_EL1 + the sync vector for the source mode.
        Returns the new PC."""
        uc = self.uc
        cpsr = uc.reg_read(c.UC_ARM64_REG_PSTATE)
        pc = uc.reg_read(c.UC_ARM64_REG_PC)
        # Xen's exception_handler64 differs from the CPU's vector choice (_vector_group) in one
        # case: it sends an exception taken from EL1t to the EL1h group (+0x200), not +0x000.
        offset = _vector_group(cpsr)
        if offset == VECTOR64_CURRENT_SP0_BASE:
            offset = VECTOR64_CURRENT_SPX_BASE
        uc.reg_write(c.UC_ARM64_REG_ESR_EL1, (HSR_EC_UNKNOWN << 26) | HSR_IL)
        return self._enter_el1h(cpsr, pc, offset)

    def exception_state(self) -> dict[str, int]:
        uc = self.uc
        return {"esr": uc.reg_read(c.UC_ARM64_REG_ESR_EL1), "elr": uc.reg_read(c.UC_ARM64_REG_ELR_EL1),
                "spsr": uc.cpr_read(*SPSR_EL1), "pstate": uc.reg_read(c.UC_ARM64_REG_PSTATE),
                "vbar": uc.reg_read(c.UC_ARM64_REG_VBAR_EL1)}



def _vector_group(pstate: int) -> int:
    """The vector group an exception taken to EL1 uses: current EL with SP_EL0 (EL1t) or SP_EL1
    (EL1h), lower EL in AArch64 or AArch32."""
    mode = pstate & PSR_MODE_MASK
    if mode & PSR_MODE_BIT_32:
        return VECTOR64_LOWER32_BASE
    if mode == PSR_MODE_EL0T:
        return VECTOR64_LOWER64_BASE
    if mode == PSR_MODE_EL1H:
        return VECTOR64_CURRENT_SPX_BASE
    return VECTOR64_CURRENT_SP0_BASE  # EL1t
