"""Unicorn glue for AArch32 guests (A32 and T32): SVC mode, non-secure, with HVC enabled."""
from __future__ import annotations

from unicorn import UC_ARCH_ARM, UC_MODE_ARM, Uc, UcError
from unicorn import arm_const as c

from unicorn.unicorn_py3.arch.arm import UcRegCP

from ..hypervisor.context import GuestFault
from .fault import CpuKind, FaultReader
from .regio import RegIO
from .stage1 import walk_lpae, walk_short
from .sysreg import A32_TIMER_PATTERNS, SysregAccess, decode_a32, decode_t32, rewrite_words, timer_udf_a32
from ..arch import aarch32

ARCH = aarch32.ARCH
# Cortex-A15 has the virtualization extensions (HVC); Cortex-A9 has none.
UC_ARCH, UC_MODE, UC_CPU = UC_ARCH_ARM, UC_MODE_ARM, c.UC_CPU_ARM_CORTEX_A15
#: the register id for system registers by encoding
CP_REG = c.UC_ARM_REG_CP_REG
EXCP_HVC, EXCP_UDEF = 11, 1
EXCP_SWI, EXCP_PREFETCH_ABORT, EXCP_DATA_ABORT = 2, 3, 4
#: SVC #0 (A32) and the AArch32 SVC exception class
SVC32, EC_SVC32 = 0xEF000000, 0x11
#: how fault.py finds the exception's fault status and address for this CPU
FAULTS = CpuKind(UC_ARCH, UC_MODE, UC_CPU, SVC32, 0, EC_SVC32)

REGS = {f"r{i}": getattr(c, f"UC_ARM_REG_R{i}") for i in range(13)}
REGS |= {"sp": c.UC_ARM_REG_SP, "lr": c.UC_ARM_REG_LR, "pc": c.UC_ARM_REG_PC, "cpsr": c.UC_ARM_REG_CPSR,
         "r13": c.UC_ARM_REG_SP, "r14": c.UC_ARM_REG_LR, "r15": c.UC_ARM_REG_PC}

# cp15 registers as (coproc, opc1, crn, crm, opc2, el, is_64)
SCR = (15, 0, 1, 1, 0, 3, False)
HCR = (15, 4, 1, 1, 0, 2, False)
SCTLR = (15, 0, 1, 0, 0, 0, False)  # el=0 selects the non-secure bank the guest sees
VBAR = (15, 0, 12, 0, 0, 0, False)
TTBCR = (15, 0, 2, 0, 2, 0, False)
TTBR0_32, TTBR1_32 = (15, 0, 2, 0, 0, 0, False), (15, 0, 2, 0, 1, 0, False)
TTBR0_64, TTBR1_64 = (15, 0, 0, 2, 0, 0, True), (15, 1, 0, 2, 0, 0, True)  # MCRR/MRRC p15, opc1, c2
TTBCR_EAE = 1 << 31
#: an LPAE TTBR without its ASID (bits 55:48)
LPAE_BADDR_MASK = (1 << 48) - 1
DFSR, IFSR = (15, 0, 5, 0, 0, 0, False), (15, 0, 5, 0, 1, 0, False)
DFAR, IFAR = (15, 0, 6, 0, 0, 0, False), (15, 0, 6, 0, 2, 0, False)
SCR_NS, SCR_HCE = 1 << 0, 1 << 8
HCR_IMO, HCR_VI = 1 << 4, 1 << 7
SCTLR_V, SCTLR_EE, SCTLR_TE = 1 << 13, 1 << 25, 1 << 30
PSR_MODE_SVC, PSR_MODE_UND, PSR_MODE_ABT, PSR_MODE_IRQ = 0x13, 0x1B, 0x17, 0x12
PSR_MODE_MASK = 0x1F
PSR_THUMB, PSR_F, PSR_I, PSR_A, PSR_E, PSR_J = 1 << 5, 1 << 6, 1 << 7, 1 << 8, 1 << 9, 1 << 24
#: the top quarter of the 32-bit address space, where a 3G/1G-split kernel's code runs (above
#: the RAM and devices of the domains xenhvc builds; see Machine._cover_kernel_half)
KERNEL_HALF = (0xC000_0000, 0xFFFF_FFFF)
#: Unicorn's Thumb translator sets the field that turns off its check after each load and store
#: itself, at every instruction (to whether it is in an IT block; cpu/exitcheck.py): the checks stay
SKIP_ACCESS_EXIT_CHECKS = False
#: Unicorn's name for this target (its exported symbols end with it), and where four general
#: registers are in its CPU state, env (cpu/tbstart.py): r0..r3, 4 bytes each, from env + 0
UNICORN_TARGET = "arm"
ENV_PROBE = ((c.UC_ARM_REG_R0, c.UC_ARM_REG_R1, c.UC_ARM_REG_R2, c.UC_ARM_REG_R3), 4, 0)
PSR_IT_MASK = 0x0600FC00
PSR_GUEST32_INIT = PSR_A | PSR_F | PSR_I | PSR_MODE_SVC
VECTOR32_UND, VECTOR32_IRQ = 0x4, 0x18
VECTOR32_SVC, VECTOR32_PABT, VECTOR32_DABT = 0x8, 0xC, 0x10
WFI_ARM, WFI_ARM_MASK = 0x0320F003, 0x0FFFFFFF  # any condition
WFI_T16, WFI_T32 = 0xBF30, (0xF3AF, 0x8003)
HVC_ESR_IMM_MASK = 0xFFFF


class Cpu:
    """One AArch32 vCPU on Unicorn."""

    arch = ARCH
    excp_hvc = EXCP_HVC
    #: the register holding the HVC syndrome, or None where the immediate is decoded from memory
    syndrome_reg = c.UC_ARM_REG_ESR  # HSR.ISS holds the HVC immediate
    excp_udef = EXCP_UDEF

    def __init__(self, uc: Uc):
        self.uc = uc
        self.io = RegIO(uc, ARCH.word_bits)
        cp, opc1, crn, crm, opc2, el, is64 = SCTLR
        self._sctlr = UcRegCP(cp, int(is64), el, crn, crm, opc1, opc2, 0)
        #: the fault of the exception Unicorn raises (take_exception)
        self.faults = FaultReader(uc, FAULTS)
        self.sctlr_cp = (c.UC_ARM_REG_CP_REG, UcRegCP(cp, int(is64), el, crn, crm, opc1, opc2, 0))
        #: the interrupt delivery (irq.IrqDelivery) once the machine is attached to Xen
        self.irq = None

    def configure(self) -> None:
        self.uc.cpr_write(*SCR, SCR_NS | SCR_HCE)
        self.set_virq(False)

    def set_virq(self, level: bool) -> None:
        """The vCPU's virtual IRQ line: HCR.VI, with HCR.IMO routing it to PL1. The CPU takes
        it, as hardware takes a virtual IRQ, while CPSR.I is clear."""
        self.uc.cpr_write(*HCR, HCR_IMO | (HCR_VI if level else 0))

    def boot(self, entry: int, thumb: bool, dtb_addr: int) -> int:
        """Linux Arm boot protocol as Xen's domain builder sets it: r0 = 0, r1 = 0xffffffff
        (no machine id: a DTB is passed), r2 = DTB, SVC mode with A, I, F masked.
        Returns the start address (bit 0 set for a Thumb entry)."""
        self.uc.reg_write(c.UC_ARM_REG_CPSR, PSR_GUEST32_INIT | (PSR_THUMB if thumb else 0))
        for i, value in enumerate((0, 0xFFFFFFFF, dtb_addr)):
            self.uc.reg_write(REGS[f"r{i}"], value)
        start = entry | (1 if thumb else 0)
        self.uc.reg_write(c.UC_ARM_REG_PC, start)
        return start

    def hvc_immediate(self, pc: int) -> int:
        """The imm16 of the HVC just executed, from the syndrome (HSR.ISS)."""
        return self.io.read(c.UC_ARM_REG_ESR) & HVC_ESR_IMM_MASK

    def pc(self) -> int:
        return self.io.read(c.UC_ARM_REG_PC)

    def rewind(self, pc: int) -> None:
        """Set the PC, staying in the current (ARM or Thumb) state: Unicorn takes bit 0 of a PC
        write as the Thumb bit."""
        self.io.write(c.UC_ARM_REG_PC, pc | (1 if self.io.read(c.UC_ARM_REG_CPSR) & PSR_THUMB else 0))

    def resume_address(self) -> int:
        """Where emu_start must continue: bit 0 set in Thumb state."""
        return self.pc() | (1 if self.io.read(c.UC_ARM_REG_CPSR) & PSR_THUMB else 0)

    def enable_event_delivery(self) -> None:
        """local_event_delivery_enable: clear CPSR.I."""
        self.uc.reg_write(c.UC_ARM_REG_CPSR, self.uc.reg_read(c.UC_ARM_REG_CPSR) & ~PSR_I)

    def events_pending(self) -> bool:
        """local_events_need_delivery (the vGIC and evtchn_upcall_pending; IRQs unmasked)."""
        return self.irq.events_pending() if self.irq is not None else False

    # -- interrupts --------------------------------------------------------------------------------
    def irq_masked(self) -> bool:
        return bool(self.io.read(c.UC_ARM_REG_CPSR) & PSR_I)

    def irq_vectors(self) -> tuple[int, ...]:
        """Where the CPU enters the guest when it takes an IRQ: VBAR + 0x18 (0xffff0018 with
        SCTLR.V)."""
        return ((self.vector_base() + VECTOR32_IRQ) & 0xFFFFFFFF,)

    def interrupted_pc(self) -> int:
        """At the IRQ vector: where the IRQ was taken (LR_irq is that address + 4, in ARM and
        Thumb state alike)."""
        return (self.io.read(c.UC_ARM_REG_LR) - 4) & 0xFFFFFFFF

    @staticmethod
    def patch_code(addr: int, code) -> int:
        """Rewrite, in place, the generic-timer MRC/MCR/MRRC/MCRR words (ARM encoding,
        unconditional) in ``code`` (a writable buffer loaded at ``addr``) into the UDFs that stand
        for them (sysreg.timer_udf_a32); returns how many were. Unicorn
        runs them natively, with a timer that never interrupts. Thumb encodings are not
        rewritten. A zImage decompresses itself, so for one this runs again over the
        decompressed kernel (Machine.late_patch)."""
        return rewrite_words(addr, code, A32_TIMER_PATTERNS, timer_udf_a32)

    def sysreg_at(self, pc: int) -> SysregAccess | None:
        """The ICC_* MRC/MCR (ARM or Thumb) at ``pc`` (virtual once the MMU is on), or None."""
        pc &= ~1
        try:
            word = self.fetch_u32(pc)
        except (GuestFault, UcError):
            return None
        if self.io.read(c.UC_ARM_REG_CPSR) & PSR_THUMB:
            return decode_t32(word & 0xFFFF, word >> 16)
        return decode_a32(word)

    def get_gpr(self, n: int) -> int:
        return self.io.read(REGS[f"r{n}"])

    def set_gpr(self, n: int, value: int) -> None:
        self.io.write(REGS[f"r{n}"], value & 0xFFFFFFFF)

    def skip(self, pc: int) -> None:
        """Resume after the 4-byte MRC/MCR at ``pc`` (not inside an IT block: the IT state is
        not advanced)."""
        self.rewind((pc & ~1) + 4)

    def after_wfi(self, pc: int) -> bool:
        """Whether the instruction before ``pc`` is a WFI (Unicorn stops after one)."""
        pc &= ~1
        try:
            before = self.io.read_u32(pc - 4)
        except UcError:
            return False
        if self.io.read(c.UC_ARM_REG_CPSR) & PSR_THUMB:
            return before >> 16 == WFI_T16 or (before & 0xFFFF, before >> 16) == WFI_T32
        return before & WFI_ARM_MASK == WFI_ARM

    def stage1_walk(self, read, va: int):
        """Translate a guest virtual address: long descriptors with TTBCR.EAE, short otherwise."""
        cpr = self.uc.cpr_read
        ttbcr = cpr(*TTBCR)
        if ttbcr & TTBCR_EAE:
            return walk_lpae(read, va, ttbcr, cpr(*TTBR0_64), cpr(*TTBR1_64))
        return walk_short(read, va, ttbcr, cpr(*TTBR0_32), cpr(*TTBR1_32))

    @staticmethod
    def counter_reads() -> None:
        """AArch32 counter reads (MRRC) reach Python (UC_HOOK_INSN_INVALID), not the native hook."""
        return None

    def code_page_key(self, va: int):
        """A key under which the translation of code page ``va`` may be remembered, or None: the
        part TTBR1 translates (a kernel's, above TTBCR's split), with the MMU on, keyed by the
        table's address (not an LPAE ASID) and TTBCR. A kernel maps its text once; anything
        TTBR0 translates (per process) is walked every time."""
        if not self.mmu_enabled():
            return None
        cpr = self.uc.cpr_read
        ttbcr = cpr(*TTBCR)
        if ttbcr & TTBCR_EAE:
            t1sz = (ttbcr >> 16) & 7
            if not t1sz or va < (1 << 32) - (1 << (32 - t1sz)):
                return None
            table = cpr(*TTBR1_64) & LPAE_BADDR_MASK
        else:
            n = ttbcr & 7
            if not n or not va >> (32 - n):
                return None
            table = cpr(*TTBR1_32)
        return va >> 12, table, ttbcr

    def mmu_enabled(self) -> bool:
        return bool(self.io.read_cp(c.UC_ARM_REG_CP_REG, self._sctlr) & 1)

    def take_exception(self, intno: int) -> int | None:
        """Take the exception Unicorn raised into the guest's vectors as the CPU does
        (AArch32.TakeSVCException, TakeDataAbortException, TakePrefetchAbortException,
        TakeUndefInstrException): the mode, the return address (SVC: the next instruction;
        prefetch abort: + 4; data abort: + 8; undefined: + 4 ARM, + 2 Thumb), DFSR/DFAR or
        IFSR/IFAR from the fault the CPU computed. Returns the new PC, or None for another
        exception (BKPT) or an unknown Unicorn build."""
        cpsr = self.io.read(c.UC_ARM_REG_CPSR)
        pc = self.io.read(c.UC_ARM_REG_PC) & ~1
        if intno == EXCP_UDEF:
            return self._enter_exception(cpsr, PSR_MODE_UND, PSR_I, VECTOR32_UND, pc + (2 if cpsr & PSR_THUMB else 4))
        if intno == EXCP_SWI:
            return self._enter_exception(cpsr, PSR_MODE_SVC, PSR_I, VECTOR32_SVC, pc)
        if intno not in (EXCP_PREFETCH_ABORT, EXCP_DATA_ABORT):
            return None
        fault = self.faults.read()
        if fault is None:
            return None
        fsr, vaddress = fault.fsr, fault.vaddress
        if intno == EXCP_DATA_ABORT:
            self.uc.cpr_write(*DFSR, fsr)
            self.uc.cpr_write(*DFAR, vaddress & 0xFFFFFFFF)
            return self._enter_exception(cpsr, PSR_MODE_ABT, PSR_I | PSR_A, VECTOR32_DABT, pc + 8)
        self.uc.cpr_write(*IFSR, fsr)
        self.uc.cpr_write(*IFAR, vaddress & 0xFFFFFFFF)
        return self._enter_exception(cpsr, PSR_MODE_ABT, PSR_I | PSR_A, VECTOR32_PABT, pc + 4)

    def inject_undef(self) -> int:
        """Xen's inject_undef32_exception: Undefined mode, SPSR_und = old CPSR,
        LR_und = saved PC (already past the HVC) + 4 (ARM) or + 2 (Thumb), to VBAR + 4
        (or 0xffff0004 with SCTLR.V). Returns the new PC."""
        cpsr = self.uc.reg_read(c.UC_ARM_REG_CPSR)
        pc = self.uc.reg_read(c.UC_ARM_REG_PC)
        return_offset = 2 if cpsr & PSR_THUMB else 4
        return self._enter_exception(cpsr, PSR_MODE_UND, PSR_I, VECTOR32_UND, pc + return_offset)

    def vector_base(self) -> int:
        """Where the exception vectors are: VBAR, or the high vectors with SCTLR.V."""
        return self._vector_base(self.uc.cpr_read(*SCTLR))

    def _vector_base(self, sctlr: int) -> int:
        return 0xFFFF0000 if sctlr & SCTLR_V else self.uc.cpr_read(*VBAR)

    def _enter_exception(self, cpsr: int, mode: int, mask: int, vector: int, lr: int) -> int:
        """Switch to ``mode`` as the CPU (and Xen's cpsr_switch_mode) does: IT/J/E/T cleared, ``mask``
        set, T and E from SCTLR.TE/EE; SPSR_<mode> = ``cpsr``, LR_<mode> = ``lr``; branch to VBAR +
        ``vector`` (0xffff0000 + ``vector`` with SCTLR.V). Returns the new PC."""
        io = self.io
        sctlr = io.read_cp(CP_REG, self._sctlr)
        new = cpsr & ~(PSR_MODE_MASK | PSR_IT_MASK | PSR_J | PSR_E | PSR_THUMB)
        new |= mode | mask
        if sctlr & SCTLR_TE:
            new |= PSR_THUMB
        if sctlr & SCTLR_EE:
            new |= PSR_E
        handler = (self._vector_base(sctlr) + vector) & 0xFFFFFFFF
        io.write(c.UC_ARM_REG_CPSR, new)  # banks in LR/SPSR of the new mode
        io.write(c.UC_ARM_REG_SPSR, cpsr)
        io.write(c.UC_ARM_REG_LR, lr & 0xFFFFFFFF)
        io.write(c.UC_ARM_REG_PC, handler | (1 if new & PSR_THUMB else 0))
        return handler

    def exception_state(self) -> dict[str, int]:
        uc = self.uc
        return {"cpsr": uc.reg_read(c.UC_ARM_REG_CPSR), "spsr": uc.reg_read(c.UC_ARM_REG_SPSR),
                "lr": uc.reg_read(c.UC_ARM_REG_LR)}

