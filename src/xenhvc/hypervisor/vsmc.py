"""SMCCC over ``HVC #0``: xen/arch/arm/vsmc.c (vsmccc_handle_call), vpsci.c, and the arm64 entry
fast path for the ARCH_WORKAROUND ids (xen/arch/arm/arm64/entry.S)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from ..abi import smccc as S
from ..abi.sched import Shutdown
from ..abi.smccc import PsciRet, SmcccFid, SmcccOwner
from .domain import Domain

_PSCI_1_0_FEATURES = {
    SmcccFid.PSCI_0_2_FN32_PSCI_VERSION, SmcccFid.PSCI_0_2_FN32_CPU_SUSPEND, SmcccFid.PSCI_0_2_FN64_CPU_SUSPEND,
    SmcccFid.PSCI_0_2_FN32_CPU_OFF, SmcccFid.PSCI_0_2_FN32_CPU_ON, SmcccFid.PSCI_0_2_FN64_CPU_ON,
    SmcccFid.PSCI_0_2_FN32_AFFINITY_INFO, SmcccFid.PSCI_0_2_FN64_AFFINITY_INFO,
    SmcccFid.PSCI_0_2_FN32_MIGRATE_INFO_TYPE, SmcccFid.PSCI_0_2_FN32_SYSTEM_OFF,
    SmcccFid.PSCI_0_2_FN32_SYSTEM_RESET, SmcccFid.PSCI_1_0_FN32_PSCI_FEATURES, SmcccFid.ARM_SMCCC_VERSION,
}
_FAST_PATH = {SmcccFid.ARM_SMCCC_ARCH_WORKAROUND_1, SmcccFid.ARM_SMCCC_ARCH_WORKAROUND_3}
_WORKAROUNDS = _FAST_PATH | {SmcccFid.ARM_SMCCC_ARCH_WORKAROUND_2}


class SmcccRegs(Protocol):
    """x0..x7 (r0..r7) of the calling vCPU; writes are truncated to the guest's register width."""

    def get(self, n: int) -> int: ...

    def set(self, n: int, value: int) -> None: ...


@dataclass(frozen=True)
class HostCpu:
    """What Xen advertises for the Spectre workarounds, which depends on the host CPU. On the
    oracle (QEMU's Cortex-A57) ARCH_FEATURES answers 0 for WORKAROUND_1 and _2 (seen there);
    WORKAROUND_3 (BHB, firmware-assisted) is not applied to Cortex-A57 by Xen's errata table."""

    workaround_1: int = S.ARM_SMCCC_SUCCESS
    workaround_2: int = S.ARM_SMCCC_SUCCESS
    workaround_3: int = S.ARM_SMCCC_NOT_SUPPORTED


class Vsmc:
    def __init__(self, domain: Domain, is_64bit: bool, host: HostCpu = HostCpu()):
        self.domain = domain
        self.is_64bit = is_64bit
        self.host = host
        self.vcpu_down = False

    def call(self, regs: SmcccRegs) -> bool:
        """Handle one SMCCC call (vsmccc_handle_call). Returns False where Xen logs
        "Unhandled SMC/HVC" and answers NOT_SUPPORTED."""
        fid = regs.get(0) & 0xFFFFFFFF
        if self.is_64bit and fid in _FAST_PATH:
            regs.set(0, 0)
            regs.set(1, 0)
            return True
        if fid == SmcccFid.ARM_SMCCC_ARCH_WORKAROUND_2 and self.is_64bit:
            for n in range(4):
                regs.set(n, 0)
            return True
        if S.smccc_is_64(fid) and not self.is_64bit:
            regs.set(0, S.ARM_SMCCC_ERR_UNKNOWN_FUNCTION)
            return True
        lo, hi = S.SMCCC_RESERVED_RANGE
        if lo <= fid <= hi:
            handled = self._psci_0_1(regs, fid)
        else:
            owner = S.smccc_owner(fid)
            handled = {SmcccOwner.ARCH: self._arch, SmcccOwner.HYPERVISOR: self._hypervisor,
                       SmcccOwner.STANDARD: self._sssc}.get(owner, _unhandled)(regs, fid)
        if not handled:
            regs.set(0, S.ARM_SMCCC_ERR_UNKNOWN_FUNCTION)
        return handled

    def pure(self, fid: int) -> bool:
        """Whether the answer to ``fid`` depends on nothing but the id and the call changes
        nothing: the Spectre workarounds (Xen answers them without looking at the arguments; on
        arm64 in its entry code), which a trap layer may answer again as the model did."""
        return fid in _WORKAROUNDS

    # -- owners ---------------------------------------------------------------------------------
    def _arch(self, regs: SmcccRegs, fid: int) -> bool:
        if fid == SmcccFid.ARM_SMCCC_VERSION:
            regs.set(0, S.ARM_SMCCC_VERSION_1_1)
            return True
        if fid == SmcccFid.ARM_SMCCC_ARCH_FEATURES:
            target = regs.get(1) & 0xFFFFFFFF
            ret = {SmcccFid.ARM_SMCCC_ARCH_WORKAROUND_1: self.host.workaround_1,
                   SmcccFid.ARM_SMCCC_ARCH_WORKAROUND_2: self.host.workaround_2,
                   SmcccFid.ARM_SMCCC_ARCH_WORKAROUND_3: self.host.workaround_3}.get(target, S.ARM_SMCCC_NOT_SUPPORTED)
            regs.set(0, ret)
            return True
        # WORKAROUND_1/2/3 from a 32-bit guest: handled, registers untouched
        return fid in (SmcccFid.ARM_SMCCC_ARCH_WORKAROUND_1, SmcccFid.ARM_SMCCC_ARCH_WORKAROUND_2,
                       SmcccFid.ARM_SMCCC_ARCH_WORKAROUND_3)

    def _hypervisor(self, regs: SmcccRegs, fid: int) -> bool:
        return _service_query(regs, fid, SmcccFid.XEN_CALL_COUNT, S.XEN_SMCCC_FUNCTION_COUNT,
                              S.XEN_SMCCC_UID.bytes, S.XEN_SMCCC_REVISION)

    def _sssc(self, regs: SmcccRegs, fid: int) -> bool:
        return self._psci_0_2(regs, fid) or _service_query(
            regs, fid, SmcccFid.SSSC_CALL_COUNT, S.SSSC_SMCCC_FUNCTION_COUNT, S.SSSC_SMCCC_UID.bytes,
            S.SSSC_SMCCC_REVISION)

    # -- PSCI -------------------------------------------------------------------------------------
    def _psci_0_1(self, regs: SmcccRegs, fid: int) -> bool:
        if fid == S.PSCI_0_1_CPU_OFF:
            self.vcpu_down = True
            regs.set(0, PsciRet.PSCI_SUCCESS)
            return True
        if fid == S.PSCI_0_1_CPU_ON:
            ret = self._cpu_on(regs.get(1) & 0xFFFFFFFF, regs.get(2))
            if ret in (PsciRet.PSCI_ALREADY_ON, PsciRet.PSCI_INVALID_ADDRESS):
                ret = PsciRet.PSCI_INVALID_PARAMETERS
            regs.set(0, ret)
            return True
        return False

    def _psci_0_2(self, regs: SmcccRegs, fid: int) -> bool:
        if fid == SmcccFid.PSCI_0_2_FN32_PSCI_VERSION:
            regs.set(0, S.PSCI_VERSION_1_1)
        elif fid == SmcccFid.PSCI_0_2_FN32_CPU_OFF:
            self.vcpu_down = True
            regs.set(0, PsciRet.PSCI_SUCCESS)
        elif fid == SmcccFid.PSCI_0_2_FN32_MIGRATE_INFO_TYPE:
            regs.set(0, S.PSCI_0_2_TOS_MP_OR_NOT_PRESENT)
        elif fid in (SmcccFid.PSCI_0_2_FN32_SYSTEM_OFF, SmcccFid.PSCI_0_2_FN32_SYSTEM_RESET):
            reason = Shutdown.SHUTDOWN_poweroff if fid == SmcccFid.PSCI_0_2_FN32_SYSTEM_OFF else Shutdown.SHUTDOWN_reboot
            self.domain.shutdown(reason)
            regs.set(0, PsciRet.PSCI_INTERNAL_FAILURE)
        elif fid in (SmcccFid.PSCI_0_2_FN32_CPU_ON, SmcccFid.PSCI_0_2_FN64_CPU_ON):
            regs.set(0, self._cpu_on(regs.get(1), regs.get(2)))
        elif fid in (SmcccFid.PSCI_0_2_FN32_CPU_SUSPEND, SmcccFid.PSCI_0_2_FN64_CPU_SUSPEND):
            regs.set(0, PsciRet.PSCI_SUCCESS)  # standby: returns at once unless it would block
        elif fid in (SmcccFid.PSCI_0_2_FN32_AFFINITY_INFO, SmcccFid.PSCI_0_2_FN64_AFFINITY_INFO):
            regs.set(0, self._affinity_info(regs.get(1), regs.get(2) & 0xFFFFFFFF))
        elif fid == SmcccFid.PSCI_1_0_FN32_PSCI_FEATURES:
            target = regs.get(1) & 0xFFFFFFFF
            regs.set(0, 0 if target in _PSCI_1_0_FEATURES else PsciRet.PSCI_NOT_SUPPORTED)
        else:
            return False
        return True

    def _cpu_on(self, target: int, entry: int) -> int:
        """One vCPU per domain here: vCPU 0 is the caller, so it is already on."""
        if _vaffinity_to_vcpuid(target) != 0:
            return PsciRet.PSCI_INVALID_PARAMETERS
        if self.is_64bit and entry & 1:
            return PsciRet.PSCI_INVALID_ADDRESS
        return PsciRet.PSCI_ALREADY_ON

    def _affinity_info(self, target: int, level: int) -> int:
        masks = (0xFFFFFF00FF, 0xFFFFFF0000, 0xFFFF000000, 0xFF00000000)[: 4 if self.is_64bit else 3]
        # MPIDR_HWID_MASK & AFFINITY_MASK(level): the affinity fields above ``level``
        if level >= len(masks):
            return PsciRet.PSCI_INVALID_PARAMETERS
        target &= masks[level]
        return S.PSCI_0_2_AFFINITY_LEVEL_ON if target == 0 else S.PSCI_0_2_AFFINITY_LEVEL_OFF


def _unhandled(regs: SmcccRegs, fid: int) -> bool:
    return False


def _service_query(regs: SmcccRegs, fid: int, count_fid: int, count: int, uid: bytes,
                   revision: tuple[int, int]) -> bool:
    """A service's CALL_COUNT (0xFF00), CALL_UID (0xFF01) and REVISION (0xFF03) queries
    (fill_function_call_count, fill_uid, fill_revision)."""
    query = fid - count_fid
    if query == 0:
        regs.set(0, count)
    elif query == 1:  # UID: four bytes per register, first byte in the low bits
        for n in range(4):
            regs.set(n, int.from_bytes(uid[4 * n: 4 * n + 4], "little"))
    elif query == 3:
        regs.set(0, revision[0])
        regs.set(1, revision[1])
    else:
        return False
    return True


def _vaffinity_to_vcpuid(mpidr: int) -> int:
    """xen/arch/arm/include/asm/domain.h: Aff0 holds 16 vCPUs, Aff1 the rest."""
    return ((mpidr >> 8) & 0xFF) << 4 | (mpidr & 0xF)


def smccc_name(fid: int) -> str:
    try:
        return SmcccFid(fid).name
    except ValueError:
        return f"smccc_{fid:#x}"
