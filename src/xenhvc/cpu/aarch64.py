"""Unicorn glue for AArch64 guests: EL1h under a non-secure EL2 with HCR_EL2.RW, as a Xen guest runs."""
from __future__ import annotations

from unicorn import UC_ARCH_ARM64, UC_MODE_ARM, Uc
from unicorn import arm64_const as c

from .regio import RegIO
from ..arch import aarch64

ARCH = aarch64.ARCH
UC_ARCH, UC_MODE, UC_CPU = UC_ARCH_ARM64, UC_MODE_ARM, c.UC_CPU_ARM64_A57
EXCP_HVC, EXCP_UDEF = 11, 1

REGS = {f"x{i}": getattr(c, f"UC_ARM64_REG_X{i}") for i in range(31)}
REGS |= {"sp": c.UC_ARM64_REG_SP, "pc": c.UC_ARM64_REG_PC, "pstate": c.UC_ARM64_REG_PSTATE}

SCR_EL3 = (3, 6, 1, 1, 0)  # op0, op1, crn, crm, op2
HCR_EL2 = (3, 4, 1, 1, 0)
SCTLR_EL1 = (3, 0, 1, 0, 0)
SPSR_EL1 = (3, 0, 4, 0, 0)
SCR_NS, SCR_HCE, SCR_RW = 1 << 0, 1 << 8, 1 << 10
HCR_RW = 1 << 31
PSR_MODE_EL0T, PSR_MODE_EL1H = 0x0, 0x5
PSR_MODE_MASK = 0x1F
PSR_DAIF = 0x3C0  # D, A, I, F
PSR_F, PSR_I, PSR_A, PSR_D = 0x40, 0x80, 0x100, 0x200
PSR_GUEST64_INIT = PSR_A | PSR_F | PSR_I | PSR_MODE_EL1H
PSR_MODE_BIT_32 = 0x10
VECTOR64_CURRENT_SPX_BASE, VECTOR64_LOWER64_BASE, VECTOR64_LOWER32_BASE = 0x200, 0x400, 0x600
HSR_EC_UNKNOWN = 0x00
HSR_IL = 1 << 25


class Cpu:
    """One AArch64 vCPU on Unicorn."""

    arch = ARCH
    excp_hvc = EXCP_HVC

    def __init__(self, uc: Uc):
        self.uc = uc
        self.io = RegIO(uc, ARCH.word_bits)

    def configure(self) -> None:
        self.uc.cpr_write(*SCR_EL3, SCR_NS | SCR_HCE | SCR_RW)
        self.uc.cpr_write(*HCR_EL2, HCR_RW)

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
        return (self.io.read_u32(pc - 4) >> 5) & 0xFFFF

    def pc(self) -> int:
        return self.uc.reg_read(c.UC_ARM64_REG_PC)

    def rewind(self, pc: int) -> None:
        self.uc.reg_write(c.UC_ARM64_REG_PC, pc)

    def resume_address(self) -> int:
        return self.pc()

    def enable_event_delivery(self) -> None:
        """local_event_delivery_enable: clear PSTATE.I."""
        self.uc.reg_write(c.UC_ARM64_REG_PSTATE, self.uc.reg_read(c.UC_ARM64_REG_PSTATE) & ~PSR_I)

    def events_pending(self) -> bool:
        return False

    def mmu_enabled(self) -> bool:
        return bool(self.uc.cpr_read(*SCTLR_EL1) & 1)

    def inject_undef(self) -> int:
        """Xen's inject_undef64_exception: EC=0 (unknown), IL=1 (an HVC is 32 bits),
        ELR_EL1 = the saved PC (past the HVC), to VBAR_EL1 + the sync vector for the source mode.
        Returns the new PC."""
        uc = self.uc
        cpsr = uc.reg_read(c.UC_ARM64_REG_PSTATE)
        pc = uc.reg_read(c.UC_ARM64_REG_PC)
        mode = cpsr & PSR_MODE_MASK
        if mode & PSR_MODE_BIT_32:
            offset = VECTOR64_LOWER32_BASE
        elif mode == PSR_MODE_EL0T:
            offset = VECTOR64_LOWER64_BASE
        else:
            offset = VECTOR64_CURRENT_SPX_BASE
        handler = uc.reg_read(c.UC_ARM64_REG_VBAR_EL1) + offset
        uc.cpr_write(*SPSR_EL1, cpsr)
        uc.reg_write(c.UC_ARM64_REG_ELR_EL1, pc)
        uc.reg_write(c.UC_ARM64_REG_ESR_EL1, (HSR_EC_UNKNOWN << 26) | HSR_IL)
        uc.reg_write(c.UC_ARM64_REG_PSTATE, PSR_MODE_EL1H | PSR_DAIF)
        uc.reg_write(c.UC_ARM64_REG_PC, handler)
        return handler

    def exception_state(self) -> dict[str, int]:
        uc = self.uc
        return {"esr": uc.reg_read(c.UC_ARM64_REG_ESR_EL1), "elr": uc.reg_read(c.UC_ARM64_REG_ELR_EL1),
                "spsr": uc.cpr_read(*SPSR_EL1), "pstate": uc.reg_read(c.UC_ARM64_REG_PSTATE),
                "vbar": uc.reg_read(c.UC_ARM64_REG_VBAR_EL1)}
