"""Unicorn's check after every AArch64 load and store is off (cpu/exitcheck.py), and nothing a
guest or a user sees changes: an unmapped access still stops the run at the access, with nothing
after it run, and a load/store-heavy guest computes the same."""
import re
import struct

import pytest
from unicorn import UC_ARCH_ARM64, UC_MODE_ARM, UC_PROT_ALL, Uc
from unicorn import arm64_const as c

from xenhvc import StopKind
from xenhvc.cpu import exitcheck, machine
from xenhvc.session import RunConfig
from xenhvc.testing import assemble_guest, run_guest

LDR_X0_X1, STR_X0_X1 = 0xF9400020, 0xF9000020

# x1 = an address with no RAM and no device; what follows the access prints "oops"
UNMAPPED = """
    mov x1, #0x1000
    mov x0, #7
    {insn}
    mov x0, #0
    mov x1, #4
    adr x2, msg
    xen_hypercall __HYPERVISOR_console_io
    shutdown 0
msg: .ascii "oops"
    .balign 4
"""

# a checksum over 64 KiB written and read back word by word, 50 times; the sum is printed
MEMORY_LOOP = """
    adr x5, buf
    mov x9, #50
    mov x7, #0
1:  mov x6, #0
2:  add x8, x6, x9
    str w8, [x5, x6, lsl #2]
    add x6, x6, #1
    cmp x6, #16384
    bne 2b
    mov x6, #0
3:  ldr w8, [x5, x6, lsl #2]
    add x7, x7, x8
    eor x7, x7, x7, lsl #3
    add x6, x6, #1
    cmp x6, #16384
    bne 3b
    subs x9, x9, #1
    bne 1b
    adr x2, out
    str x7, [x2]
    mov x0, #0
    mov x1, #8
    xen_hypercall __HYPERVISOR_console_io
    shutdown 0
    .balign 8
out: .quad 0
    .balign 4096
buf: .space 65536
"""


@pytest.fixture(params=["off", "kept"])
def checks(request, monkeypatch):
    """Each test runs with the checks off (as xenhvc runs: it must succeed) and with Unicorn's
    default."""
    done = []
    real = machine.skip_access_exit_checks
    if request.param == "off":
        monkeypatch.setattr(machine, "skip_access_exit_checks", lambda uc: done.append(real(uc)) or done[-1])
    else:
        monkeypatch.setattr(machine, "skip_access_exit_checks", lambda uc: False)
    yield request.param
    assert done == ([True] if request.param == "off" else [])


def test_the_field_is_found_on_this_unicorn():
    uc = Uc(UC_ARCH_ARM64, UC_MODE_ARM)
    uc.ctl_set_cpu_model(c.UC_CPU_ARM64_A57)
    uc.mem_map(0x1000, 0x1000, UC_PROT_ALL)
    assert exitcheck.no_exit_request_offset(uc) is not None
    assert exitcheck.skip_access_exit_checks(uc)


@pytest.mark.parametrize("insn, word", [("ldr x0, [x1]", LDR_X0_X1), ("str x0, [x1]", STR_X0_X1)])
def test_an_unmapped_access_stops_at_the_access(checks, insn, word):
    image = assemble_guest("a64", UNMAPPED.format(insn=insn))
    result = run_guest(image, RunConfig(timeout=10))
    assert result.stop.kind == StopKind.GUEST_EXCEPTION and "unmapped memory" in result.stop.detail
    pc = int(re.search(r"at (0x[0-9a-f]+)", result.stop.detail).group(1), 16)
    assert struct.unpack_from("<I", image, pc - result.entry)[0] == word  # the access itself
    assert result.console == b""  # nothing after it ran


def test_loads_and_stores_compute_the_same(checks):
    result = run_guest(assemble_guest("a64", MEMORY_LOOP), RunConfig(timeout=30))
    assert result.stop.kind == StopKind.SHUTDOWN
    expected = 0
    for i in range(50, 0, -1):
        for j in range(16384):
            expected = (expected + ((j + i) & 0xFFFFFFFF)) & (2**64 - 1)
            expected = (expected ^ (expected << 3)) & (2**64 - 1)
    assert struct.unpack("<Q", result.console)[0] == expected


@pytest.mark.parametrize("isa, config", [("a32", RunConfig(timeout=10)), ("a64", RunConfig(max_instructions=10**6))])
def test_aarch32_and_counted_runs_keep_the_checks(monkeypatch, isa, config):
    # AArch32: Unicorn's translator sets the field itself around IT blocks; an instruction count
    # is enforced through the same check
    calls = []
    monkeypatch.setattr(machine, "skip_access_exit_checks", lambda uc: calls.append(uc) or True)
    run_guest(assemble_guest(isa, "shutdown 0"), config)
    assert calls == []
