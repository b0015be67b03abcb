"""Unicorn glue for AArch32 guests (A32 and T32): SVC mode, non-secure, with HVC enabled."""
from __future__ import annotations

from unicorn import UC_ARCH_ARM, UC_MODE_ARM, Uc, UcError
from unicorn import arm_const as c

from unicorn.unicorn_py3.arch.arm import UcRegCP

from ..hypervisor.context import GuestFault
from .regio import RegIO
from .stage1 import walk_lpae, walk_short
from .sysreg import SysregAccess, decode_a32, decode_t32
from ..arch import aarch32

ARCH = aarch32.ARCH
# Cortex-A15 has the virtualization extensions (HVC); Cortex-A9 has none.
UC_ARCH, UC_MODE, UC_CPU = UC_ARCH_ARM, UC_MODE_ARM, c.UC_CPU_ARM_CORTEX_A15
#: the register id for system registers by encoding
CP_REG = c.UC_ARM_REG_CP_REG
EXCP_HVC, EXCP_UDEF = 11, 1

REGS = {f"r{i}": getattr(c, f"UC_ARM_REG_R{i}") for i in range(13)}
REGS |= {"sp": c.UC_ARM_REG_SP, "lr": c.UC_ARM_REG_LR, "pc": c.UC_ARM_REG_PC, "cpsr": c.UC_ARM_REG_CPSR,
         "r13": c.UC_ARM_REG_SP, "r14": c.UC_ARM_REG_LR, "r15": c.UC_ARM_REG_PC}

# cp15 registers as (coproc, opc1, crn, crm, opc2, el, is_64)
SCR = (15, 0, 1, 1, 0, 3, False)
SCTLR = (15, 0, 1, 0, 0, 0, False)  # el=0 selects the non-secure bank the guest sees
VBAR = (15, 0, 12, 0, 0, 0, False)
TTBCR = (15, 0, 2, 0, 2, 0, False)
TTBR0_32, TTBR1_32 = (15, 0, 2, 0, 0, 0, False), (15, 0, 2, 0, 1, 0, False)
TTBR0_64, TTBR1_64 = (15, 0, 0, 2, 0, 0, True), (15, 1, 0, 2, 0, 0, True)  # MCRR/MRRC p15, opc1, c2
TTBCR_EAE = 1 << 31
SCR_NS, SCR_HCE = 1 << 0, 1 << 8
SCTLR_V, SCTLR_EE, SCTLR_TE = 1 << 13, 1 << 25, 1 << 30
PSR_MODE_SVC, PSR_MODE_UND, PSR_MODE_ABT, PSR_MODE_IRQ = 0x13, 0x1B, 0x17, 0x12
PSR_MODE_MASK = 0x1F
PSR_THUMB, PSR_F, PSR_I, PSR_A, PSR_E, PSR_J = 1 << 5, 1 << 6, 1 << 7, 1 << 8, 1 << 9, 1 << 24
#: the register and bit that mask IRQs (for the native unmask watch)
IRQ_MASK = (c.UC_ARM_REG_CPSR, PSR_I)
PSR_IT_MASK = 0x0600FC00
PSR_GUEST32_INIT = PSR_A | PSR_F | PSR_I | PSR_MODE_SVC
VECTOR32_UND, VECTOR32_IRQ = 0x4, 0x18
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
        self.sctlr_cp = (c.UC_ARM_REG_CP_REG, UcRegCP(cp, int(is64), el, crn, crm, opc1, opc2, 0))
        self.read_ram_u32 = None
        #: the interrupt delivery (irq.IrqDelivery) once the machine is attached to Xen
        self.irq = None

    def configure(self) -> None:
        self.uc.cpr_write(*SCR[:5], SCR[5], SCR[6], SCR_NS | SCR_HCE)

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

    def hvc_immediate(self, pc: int, mmu_on: bool | None = None) -> int:
        """The imm16 of the HVC just executed, from the syndrome (HSR.ISS)."""
        return self.io.read(c.UC_ARM_REG_ESR) & HVC_ESR_IMM_MASK

    def pc(self) -> int:
        return self.uc.reg_read(c.UC_ARM_REG_PC)

    def rewind(self, pc: int) -> None:
        """Set the PC, staying in the current (ARM or Thumb) state: Unicorn takes bit 0 of a PC
        write as the Thumb bit."""
        self.uc.reg_write(c.UC_ARM_REG_PC, pc | (1 if self.uc.reg_read(c.UC_ARM_REG_CPSR) & PSR_THUMB else 0))

    def resume_address(self) -> int:
        """Where emu_start must continue: bit 0 set in Thumb state."""
        return self.pc() | (1 if self.uc.reg_read(c.UC_ARM_REG_CPSR) & PSR_THUMB else 0)

    def enable_event_delivery(self) -> None:
        """local_event_delivery_enable: clear CPSR.I."""
        self.uc.reg_write(c.UC_ARM_REG_CPSR, self.uc.reg_read(c.UC_ARM_REG_CPSR) & ~PSR_I)

    def events_pending(self) -> bool:
        """local_events_need_delivery (the vGIC and evtchn_upcall_pending; IRQs unmasked)."""
        return self.irq.events_pending() if self.irq is not None else False

    # -- interrupts --------------------------------------------------------------------------------
    def irq_masked(self) -> bool:
        return bool(self.io.read(c.UC_ARM_REG_CPSR) & PSR_I)

    def take_irq(self) -> int:
        """Take an IRQ exception as the CPU does (AArch32.TakeIRQException): IRQ mode,
        SPSR_irq = CPSR, LR_irq = the address of the next instruction + 4 (ARM and Thumb alike),
        I and A masked, IT/J cleared, T from SCTLR.TE, E from SCTLR.EE, PC = VBAR + 0x18
        (0xffff0018 with SCTLR.V). Returns the new PC."""
        cpsr = self.io.read(c.UC_ARM_REG_CPSR)
        pc = self.io.read(c.UC_ARM_REG_PC) & ~1
        return self._enter_exception(cpsr, PSR_MODE_IRQ, PSR_I | PSR_A, VECTOR32_IRQ, pc + 4)

    @staticmethod
    def patch_code(addr: int, data: bytes) -> tuple[bytes, int]:
        """AArch32 guests' timer accesses are not rewritten (the generic timer is modelled for
        AArch64 guests only)."""
        return data, 0

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

    def code_page_key(self, va: int) -> None:
        """No remembered code-page translations for AArch32 guests: every fetch walks."""
        return None

    def mmu_enabled(self) -> bool:
        return bool(self.io.read_cp(c.UC_ARM_REG_CP_REG, self._sctlr) & 1)

    def take_exception(self, intno: int) -> None:
        """Exceptions Unicorn raises (SVC, aborts, BKPT) are not taken into an AArch32 guest's
        vectors yet: the run stops with the exception."""
        return None

    def inject_undef(self) -> int:
        """Xen's inject_undef32_exception: Undefined mode, SPSR_und = old CPSR,
        LR_und = saved PC (already past the HVC) + 4 (ARM) or + 2 (Thumb), to VBAR + 4
        (or 0xffff0004 with SCTLR.V). Returns the new PC."""
        cpsr = self.uc.reg_read(c.UC_ARM_REG_CPSR)
        pc = self.uc.reg_read(c.UC_ARM_REG_PC)
        return_offset = 2 if cpsr & PSR_THUMB else 4
        return self._enter_exception(cpsr, PSR_MODE_UND, PSR_I, VECTOR32_UND, pc + return_offset)

    def _enter_exception(self, cpsr: int, mode: int, mask: int, vector: int, lr: int) -> int:
        """Switch to ``mode`` as the CPU (and Xen's cpsr_switch_mode) does: IT/J/E/T cleared, ``mask``
        set, T and E from SCTLR.TE/EE; SPSR_<mode> = ``cpsr``, LR_<mode> = ``lr``; branch to VBAR +
        ``vector`` (0xffff0000 + ``vector`` with SCTLR.V). Returns the new PC."""
        uc = self.uc
        sctlr = uc.cpr_read(*SCTLR)
        new = cpsr & ~(PSR_MODE_MASK | PSR_IT_MASK | PSR_J | PSR_E | PSR_THUMB)
        new |= mode | mask
        if sctlr & SCTLR_TE:
            new |= PSR_THUMB
        if sctlr & SCTLR_EE:
            new |= PSR_E
        base = 0xFFFF0000 if sctlr & SCTLR_V else uc.cpr_read(*VBAR)
        handler = (base + vector) & 0xFFFFFFFF
        uc.reg_write(c.UC_ARM_REG_CPSR, new)  # banks in LR/SPSR of the new mode
        uc.reg_write(c.UC_ARM_REG_SPSR, cpsr)
        uc.reg_write(c.UC_ARM_REG_LR, lr & 0xFFFFFFFF)
        uc.reg_write(c.UC_ARM_REG_PC, handler | (1 if new & PSR_THUMB else 0))
        return handler

    def exception_state(self) -> dict[str, int]:
        uc = self.uc
        return {"cpsr": uc.reg_read(c.UC_ARM_REG_CPSR), "spsr": uc.reg_read(c.UC_ARM_REG_SPSR),
                "lr": uc.reg_read(c.UC_ARM_REG_LR)}
