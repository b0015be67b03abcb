"""The fault of the exception Unicorn is raising, read in its interrupt hook.

Unicorn hands every exception to the hook without taking it, and QEMU keeps what the exception
entry needs in CPUARMState.exception {u32 syndrome, u32 fsr, u64 vaddress}, which Unicorn's
register API does not expose (AArch64 not at all, AArch32 only the syndrome). A saved context
holds the CPU state, so the structure is read from one: its offset is found once per CPU kind by
raising two SVCs with different immediates on a scratch CPU and looking for both syndromes at
the same offset of the saved context."""
from __future__ import annotations

import ctypes
import functools
from typing import NamedTuple

from unicorn import UC_HOOK_INTR, Uc

HSR_IL = 1 << 25


class CpuKind(NamedTuple):
    """How to make a scratch CPU of a kind and an SVC #imm16 on it."""
    uc_arch: int
    uc_mode: int
    uc_cpu: int
    svc: int  # SVC #0; the immediate goes at ``svc_shift``
    svc_shift: int
    svc_ec: int  # the exception class of that SVC in the syndrome


class Fault(NamedTuple):
    syndrome: int
    fsr: int  # AArch32 fault status (DFSR/IFSR format)
    vaddress: int  # the faulting address (FAR, DFAR/IFAR)


@functools.cache
def _offset(kind: CpuKind) -> int | None:
    hits = []
    for imm in (0x1234, 0x4321):
        uc = Uc(kind.uc_arch, kind.uc_mode)
        uc.ctl_set_cpu_model(kind.uc_cpu)
        uc.mem_map(0x1000, 0x1000)
        uc.mem_write(0x1000, (kind.svc | imm << kind.svc_shift).to_bytes(4, "little"))
        ctx = uc.context_save()
        found: list[set[int]] = []

        def hook(uc, _intno, _ud, ctx=ctx, imm=imm, found=found):
            uc.context_update(ctx)
            raw = ctypes.string_at(ctypes.cast(ctx.context, ctypes.c_void_p).value, ctx.size)
            want = ((kind.svc_ec << 26) | HSR_IL | imm).to_bytes(4, "little")
            found.append({i for i in range(0, len(raw) - 3, 4) if raw[i:i + 4] == want})
            uc.emu_stop()

        uc.hook_add(UC_HOOK_INTR, hook)
        uc.emu_start(0x1000, 0x1004)
        hits.append(found[0] if found else set())
    both = hits[0] & hits[1]
    return both.pop() if len(both) == 1 else None


class FaultReader:
    """Reads the fault of the exception ``uc`` is raising, through one reused saved context."""

    def __init__(self, uc: Uc, kind: CpuKind):
        self.uc, self.kind = uc, kind
        self._context = None

    def read(self) -> Fault | None:
        """None if this Unicorn build keeps the structure where it could not be found."""
        offset = _offset(self.kind)
        if offset is None:
            return None
        if self._context is None:
            self._context = self.uc.context_save()
        else:
            self.uc.context_update(self._context)
        base = ctypes.cast(self._context.context, ctypes.c_void_p).value + offset
        return Fault(ctypes.c_uint32.from_address(base).value, ctypes.c_uint32.from_address(base + 4).value,
                     ctypes.c_uint64.from_address(base + 8).value)
