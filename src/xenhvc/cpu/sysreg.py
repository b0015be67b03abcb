"""Decoding the GIC CPU-interface system-register accesses a guest makes.

Unicorn has no GIC attached, so the ICC_* registers are UNDEFINED: an AArch64 ``MRS``/``MSR``
reaches UC_HOOK_INTR as intno 1 (EXCP_UDEF), an AArch32 ``MRC``/``MCR`` (ARM or Thumb) reaches
UC_HOOK_INSN_INVALID; in both cases the PC is the address of the instruction and no syndrome is
written. The trap layer reads the instruction there and decodes it here: a small fixed set of
encodings, so no disassembler is needed.

Registers are named by (CRn, CRm, op2) with op0 = 3, op1 = 0 (A64) or coproc = 15, opc1 = 0
(AArch32): the AArch32 ICC_* encodings are the AArch64 ones with op0/op1 dropped."""
from __future__ import annotations

import os
from dataclasses import dataclass

from .native import match_words

#: (CRn, CRm, op2) -> name, for op0 = 3 / op1 = 0 (A64) and p15 / opc1 = 0 (AArch32)
ICC_REGS = {
    (4, 6, 0): "ICC_PMR",
    (12, 8, 0): "ICC_IAR0", (12, 8, 1): "ICC_EOIR0", (12, 8, 2): "ICC_HPPIR0", (12, 8, 3): "ICC_BPR0",
    (12, 8, 4): "ICC_AP0R0", (12, 8, 5): "ICC_AP0R1", (12, 8, 6): "ICC_AP0R2", (12, 8, 7): "ICC_AP0R3",
    (12, 9, 0): "ICC_AP1R0", (12, 9, 1): "ICC_AP1R1", (12, 9, 2): "ICC_AP1R2", (12, 9, 3): "ICC_AP1R3",
    (12, 11, 1): "ICC_DIR", (12, 11, 3): "ICC_RPR",
    (12, 12, 0): "ICC_IAR1", (12, 12, 1): "ICC_EOIR1", (12, 12, 2): "ICC_HPPIR1", (12, 12, 3): "ICC_BPR1",
    (12, 12, 4): "ICC_CTLR", (12, 12, 5): "ICC_SRE", (12, 12, 6): "ICC_IGRPEN0", (12, 12, 7): "ICC_IGRPEN1",
}
#: the AArch64 ICC_SGI*R_EL1 registers (AArch32 reaches them with MCRR, not decoded here)
ICC_REGS_A64_ONLY = {(12, 11, 5): "ICC_SGI1R", (12, 11, 6): "ICC_ASGI1R", (12, 11, 7): "ICC_SGI0R"}

A64_SYSREG_MASK, A64_SYSREG_BITS = 0xFFD00000, 0xD5100000  # MRS/MSR (register), op0 = 2 or 3
A32_MCR_MASK, A32_MCR_BITS = 0x0F000010, 0x0E000010  # MRC/MCR (cond 1110 opc1 L CRn Rt coproc opc2 1 CRm)


@dataclass(frozen=True)
class SysregAccess:
    name: str
    read: bool  # MRS / MRC: the register's value goes to Rt
    rt: int  # A64: 31 is XZR; AArch32: 0..14 (15 is refused: MRC to APSR_nzcv)
    rt2: int | None = None  # AArch32 MRRC/MCRR: the register with bits 63:32


#: the generic-timer registers xenhvc emulates, (CRn, CRm, op2) with op0 = 3, op1 = 3 (A64).
#: Unicorn 2.1.4 executes these without trapping (no EL2 trap exists for CNTV_* in Armv8.0) and
#: without a working timer: CNTV_CTL/CVAL read as zero whatever was written, and CNTVCT counts
#: host time. So the loader rewrites each such MRS/MSR in the image into a UDF whose immediate
#: names the access (see timer_udf); CNTFRQ_EL0 (62.5 MHz, right) and CNTKCTL_EL1 stay native.
TIMER_REGS = ("CNTPCT", "CNTVCT", "CNTP_TVAL", "CNTP_CTL", "CNTP_CVAL", "CNTV_TVAL", "CNTV_CTL", "CNTV_CVAL")
TIMER_ENCODINGS = {(14, 0, 1): 0, (14, 0, 2): 1, (14, 2, 0): 2, (14, 2, 1): 3, (14, 2, 2): 4,
                   (14, 3, 0): 5, (14, 3, 1): 6, (14, 3, 2): 7}
#: UDF #imm16 (0x0000xxxx) with imm16 = TIMER_UDF_TAG | read << 8 | register << 5 | Rt
TIMER_UDF_TAG = 0xE000
TIMER_UDF_MASK = 0xFFFFFE00
#: the UDFs that read CNTPCT or CNTVCT (registers 0 and 1), whatever Rt: answered natively
COUNTER_READ_UDF, COUNTER_READ_MASK = TIMER_UDF_TAG | 1 << 8, 0xFFFFFFC0


#: ID registers Xen traps (HCR_EL2.TID3) and answers from its guest_cpuinfo where Unicorn's
#: value differs from what a guest sees under real Xen: MRS Xt, <reg> (A64) -> name. Rewritten
#: like the timer accesses, to UDF #(ID_UDF_TAG | register << 5 | Rt).
ID_REGS = ("ID_AA64PFR0",)
ID_MRS = {0xD5380400: 0}  # MRS Xt, ID_AA64PFR0_EL1 (op0 3, op1 0, CRn 0, CRm 4, op2 0)
ID_UDF_TAG = 0xE200


def timer_udf(insn: int) -> int | None:
    """The UDF that stands for a generic-timer MRS/MSR or a rewritten ID-register MRS, or None
    if ``insn`` is neither."""
    reg = ID_MRS.get(insn & ~0x1F)
    if reg is not None:
        return ID_UDF_TAG | reg << 5 | insn & 0x1F
    if insn & A64_SYSREG_MASK != A64_SYSREG_BITS or (insn >> 19) & 3 != 3 or (insn >> 16) & 7 != 3:
        return None
    reg = TIMER_ENCODINGS.get(((insn >> 12) & 0xF, (insn >> 8) & 0xF, (insn >> 5) & 7))
    if reg is None:
        return None
    return TIMER_UDF_TAG | (insn >> 21 & 1) << 8 | reg << 5 | insn & 0x1F


def decode_a64(insn: int) -> SysregAccess | None:
    """An ICC_* MRS/MSR or a generic-timer access rewritten by timer_udf, or None for anything else."""
    if insn & TIMER_UDF_MASK == TIMER_UDF_TAG:
        return SysregAccess(TIMER_REGS[(insn >> 5) & 7], bool(insn >> 8 & 1), insn & 0x1F)
    if insn & TIMER_UDF_MASK == ID_UDF_TAG and (insn >> 5) & 7 < len(ID_REGS):
        return SysregAccess(ID_REGS[(insn >> 5) & 7], True, insn & 0x1F)
    if insn & A64_SYSREG_MASK != A64_SYSREG_BITS:
        return None
    op0, op1 = (insn >> 19) & 3, (insn >> 16) & 7
    crn, crm, op2 = (insn >> 12) & 0xF, (insn >> 8) & 0xF, (insn >> 5) & 7
    if op0 != 3 or op1 != 0:
        return None
    name = ICC_REGS.get((crn, crm, op2)) or ICC_REGS_A64_ONLY.get((crn, crm, op2))
    if name is None:
        return None
    return SysregAccess(name, bool(insn >> 21 & 1), insn & 0x1F)


#: the AArch32 generic-timer accesses (p15, ARM encoding) xenhvc emulates, as for AArch64: MRC/MCR
#: (opc1 0, CRn 14, CRm, opc2) and MRRC/MCRR (opc1, CRm 14) -> index in TIMER_REGS. CNTFRQ and
#: CNTKCTL stay native.
A32_TIMER_MRC = {(2, 0): 2, (2, 1): 3, (3, 0): 5, (3, 1): 6}  # (CRm, opc2): CNTP_TVAL/CTL, CNTV_TVAL/CTL
A32_TIMER_MRRC = {0: 0, 1: 1, 2: 4, 3: 7}  # opc1: CNTPCT, CNTVCT, CNTP_CVAL, CNTV_CVAL
A32_MCRR_MASK, A32_MCRR_BITS = 0x0FE00F00, 0x0C400F00  # MCRR/MRRC p15 (cond 1100 010 L Rt2 Rt 1111 opc1 CRm)
#: UDF (A32: 1110 0111 1111 imm12 1111 imm4) with imm16 = A32_UDF_TAG | register << 9 | read << 8 |
#: Rt << 4 | Rt2 (Rt2 = 15 for a 32-bit MRC/MCR, where it cannot occur)
#: (tag 0xA: Linux's own ARM UDFs, BUG 0x0012, kprobes 0x0018, KGDB 0xFFDE/0xFFDF, are elsewhere)
A32_UDF_BITS, A32_UDF_MASK, A32_UDF_TAG = 0xE7F000F0, 0xFFF000F0, 0xA000


def candidate_words(buf, offset: int, count: int, patterns: tuple[tuple[int, int], ...]) -> list[int]:
    """Indexes of the ``count`` 32-bit words of ``buf`` (a bytes-like object) from ``offset``
    with ``word & mask == bits`` for one of ``patterns``: a first cut before the exact rewrite. In
    C for a kernel (cpu/native/scan.c), a plain loop for a small image; without the compiled
    extension, vectorised with numpy."""
    with memoryview(buf) as view, view[offset:offset + 4 * count].cast("I") as words:
        if count < 1 << 14:
            return [i for i, w in enumerate(words) if any(w & m == b for m, b in patterns)]
        found = match_words(buf, offset, count, patterns)
        if found is not None:
            return found
        # no BLAS here: without this, numpy's import starts OpenBLAS threads that spin beside the run
        os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
        import numpy as np

        a = np.frombuffer(words, dtype="<u4")
        hit = np.zeros(len(a), dtype=bool)
        for mask, bits in patterns:
            hit |= (a & np.uint32(mask)) == np.uint32(bits)
        del a
        return np.flatnonzero(hit).tolist()


def rewrite_words(addr: int, buf, patterns: tuple[tuple[int, int], ...], rewrite) -> int:
    """Rewrite, in ``buf`` (a writable bytes-like object loaded at ``addr``), every aligned word
    that matches ``patterns`` and that ``rewrite`` maps to a new word; returns how many were."""
    n = 0
    skip = -addr % 4
    count = (len(buf) - skip) // 4
    candidates = candidate_words(buf, skip, count, patterns)
    with memoryview(buf) as view, view[skip:skip + 4 * count].cast("I") as words:
        for i in candidates:
            new = rewrite(words[i])
            if new is not None:
                words[i] = new
                n += 1
    return n


#: MRC/MCR and MRRC/MCRR (p15 or not): where the AArch32 timer accesses are (timer_udf_a32 decides)
A32_TIMER_PATTERNS = ((A32_MCR_MASK, A32_MCR_BITS), (A32_MCRR_MASK, A32_MCRR_BITS))


def a32_udf(imm16: int) -> int:
    return A32_UDF_BITS | (imm16 >> 4) << 8 | (imm16 & 0xF)


def timer_udf_a32(insn: int) -> int | None:
    """The UDF that stands for an (unconditional) AArch32 generic-timer MRC/MCR/MRRC/MCRR, or None."""
    if insn >> 28 != 0xE:
        return None
    if insn & A32_MCR_MASK == A32_MCR_BITS and (insn >> 8) & 0xF == 15 and (insn >> 16) & 0xF == 14 \
            and (insn >> 21) & 7 == 0:
        reg = A32_TIMER_MRC.get((insn & 0xF, (insn >> 5) & 7))
        rt, rt2 = (insn >> 12) & 0xF, 15
    elif insn & A32_MCRR_MASK == A32_MCRR_BITS and insn & 0xF == 14:
        reg = A32_TIMER_MRRC.get((insn >> 4) & 0xF)
        rt, rt2 = (insn >> 12) & 0xF, (insn >> 16) & 0xF
    else:
        return None
    if reg is None or rt == 15:
        return None
    return a32_udf(A32_UDF_TAG | reg << 9 | (insn >> 20 & 1) << 8 | rt << 4 | rt2)


def decode_a32(insn: int) -> SysregAccess | None:
    """An ICC_* MRC/MCR in the ARM encoding (any condition: Unicorn raises the UNDEF only when
    the condition passes), a generic-timer access rewritten by timer_udf_a32, or None."""
    if insn & A32_UDF_MASK == A32_UDF_BITS:
        imm16 = (insn >> 8 & 0xFFF) << 4 | insn & 0xF
        if imm16 & 0xF000 != A32_UDF_TAG:
            return None
        rt2 = imm16 & 0xF
        return SysregAccess(TIMER_REGS[imm16 >> 9 & 7], bool(imm16 >> 8 & 1), imm16 >> 4 & 0xF,
                            None if rt2 == 15 else rt2)
    if insn >> 28 == 0xF or insn & A32_MCR_MASK != A32_MCR_BITS:
        return None  # MRC2/MCR2, or not a register transfer
    coproc, opc1 = (insn >> 8) & 0xF, (insn >> 21) & 7
    crn, crm, op2, rt = (insn >> 16) & 0xF, insn & 0xF, (insn >> 5) & 7, (insn >> 12) & 0xF
    if coproc != 15 or opc1 != 0 or rt == 15:
        return None
    name = ICC_REGS.get((crn, crm, op2))
    if name is None:
        return None
    return SysregAccess(name, bool(insn >> 20 & 1), rt)


def decode_t32(hw1: int, hw2: int) -> SysregAccess | None:
    """An ICC_* MRC/MCR in the Thumb encoding (T1: 1110 1110 opc1 L CRn | Rt coproc opc2 1 CRm):
    the two halfwords form the ARM encoding with cond = 1110."""
    if hw1 & 0xFF00 != 0xEE00:
        return None
    return decode_a32((hw1 << 16) | hw2)
