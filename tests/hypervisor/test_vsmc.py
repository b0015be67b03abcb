"""SMCCC/PSCI over HVC #0 (vsmc.c, vpsci.c). Expected values are what real Xen answered the probe
guests (guests/probe/*.transcript.txt)."""
import pytest

from xenhvc.abi.sched import Shutdown
from xenhvc.hypervisor.domain import make_domain
from xenhvc.hypervisor.vsmc import Vsmc


class Regs:
    def __init__(self, bits: int, *values: int):
        self.mask = (1 << bits) - 1
        self.r = list(values) + [0] * (8 - len(values))

    def get(self, n):
        return self.r[n]

    def set(self, n, value):
        self.r[n] = value & self.mask


def call(*values, bits=64, domid=0):
    v = Vsmc(make_domain(domid), is_64bit=bits == 64)
    regs = Regs(bits, *values)
    handled = v.call(regs)
    return regs.r[:4], handled, v


M64 = 0xFFFFFFFF_FFFFFFFF


@pytest.mark.parametrize("values,expected", [
    ((0x80000000,), [0x10001, 0, 0, 0]),
    ((0x80000001, 0x80008000), [0, 0x80008000, 0, 0]),
    ((0x80000001, 0x80007FFF), [0, 0x80007FFF, 0, 0]),
    ((0x80000001, 0x80000000), [M64, 0x80000000, 0, 0]),
    ((0x84000000,), [0x10001, 0, 0, 0]),
    ((0x8400000A, 0x84000000), [0, 0x84000000, 0, 0]),
    ((0x8400000A, 0x84000008), [0, 0x84000008, 0, 0]),
    ((0x8400000A, 0x84000009), [0, 0x84000009, 0, 0]),
    ((0x8400000A, 0xC4000003), [0, 0xC4000003, 0, 0]),
    ((0x8400000A, 0x8400000E), [M64, 0x8400000E, 0, 0]),
    ((0x8400000A, 0x12345678), [M64, 0x12345678, 0, 0]),
    ((0x84000006,), [2, 0, 0, 0]),
    ((0x80008000, 0x5555), [0, 0, 0, 0]),
    ((0x86000000,), [M64, 0, 0, 0]),
    ((0x8600FF00,), [M64, 0, 0, 0]),
    ((0x8500FF00,), [3, 0, 0, 0]),
    ((0x8500FF01,), [0xDC1218A7, 0x694398C6, 0xD179CF9A, 0x67E6DE8D]),
    ((0x8500FF03,), [0, 1, 0, 0]),
    ((0x12345678,), [M64, 0, 0, 0]),
])
def test_a64_answers_match_real_xen(values, expected):
    assert call(*values)[0] == expected


def test_unhandled_is_reported():
    assert call(0x12345678)[1] is False
    assert call(0x80000000)[1] is True


def test_64bit_fid_from_32bit_guest_is_unknown_without_log():
    regs, handled, _ = call(0xC4000003, bits=32)
    assert regs[0] == 0xFFFFFFFF and handled


def test_workaround_from_32bit_guest_leaves_registers():
    regs, handled, _ = call(0x80008000, 0x5555, bits=32)
    assert regs == [0x80008000, 0x5555, 0, 0] and handled


@pytest.mark.parametrize("fid,reason", [(0x84000008, Shutdown.SHUTDOWN_poweroff),
                                        (0x84000009, Shutdown.SHUTDOWN_reboot)])
def test_system_off_and_reset(fid, reason):
    regs, _, v = call(fid)
    assert v.domain.shutdown_reason == reason
    assert regs[0] == (-6) & M64  # PSCI_INTERNAL_FAILURE if it ever returned


def test_cpu_on_and_affinity():
    assert call(0xC4000003, 0, 0x40000000)[0][0] == (-4) & M64  # vCPU0: ALREADY_ON
    assert call(0xC4000003, 1, 0x40000000)[0][0] == (-2) & M64  # no vCPU1
    assert call(0xC4000003, 0, 0x40000001)[0][0] == (-9) & M64  # Thumb entry on 64-bit
    assert call(2, 0, 0x40000000)[0][0] == (-2) & M64  # PSCI 0.1 cpu_on: INVALID_PARAMETERS
    assert call(0xC4000004, 0, 0)[0][0] == 0  # AFFINITY_INFO: on
    assert call(0xC4000004, 1, 0)[0][0] == 1  # off
    assert call(0xC4000004, 0, 4)[0][0] == (-2) & M64


def test_cpu_off():
    regs, _, v = call(0x84000002)
    assert regs[0] == 0 and v.vcpu_down
