"""Preempted hypercalls (--preempt-every N): Xen rewinds the PC to the HVC with the continuation's
number and arguments in the registers, and the guest re-executes it until the work is done."""
import struct

import pytest

from xenhvc import ExitCode
from xenhvc.testing import assemble_guest, run_guest

MSG = bytes(range(32, 127)) * 3 + b"\n"  # 286 bytes: three 127-byte chunks of console output

A64_WRITE = """
    mov x0, #0
    mov x1, #{n}
    adr x2, msg
    xen_hypercall __HYPERVISOR_console_io
    shutdown 0
msg: .ascii "{text}"
"""
A32_WRITE = A64_WRITE.replace("x0", "r0").replace("x1", "r1").replace("x2", "r2")


def _escape(data: bytes) -> str:
    return "".join(f"\\{b:03o}" for b in data)


@pytest.mark.parametrize("isa,template", [("a64", A64_WRITE), ("a32", A32_WRITE), ("t32", A32_WRITE)])
@pytest.mark.parametrize("every", [0, 1, 2])
def test_console_write_continues_to_the_end(isa, template, every):
    image = assemble_guest(isa, template.format(n=len(MSG), text=_escape(MSG)))
    result = run_guest(image, preempt_every=every)
    assert result.exit_code == ExitCode.POWEROFF and result.console == MSG
    writes = [r for r in result.trace if r.name == "console_io"]
    preempted = [r for r in writes if any(n.startswith("preempted") for n in r.notes)]
    assert len(writes) == {0: 1, 1: 3, 2: 2}[every] and len(preempted) == len(writes) - 1
    if every == 1:  # re-issued with the count and the buffer advanced
        assert [r.args[1] for r in writes] == [286, 159, 32]
        assert writes[1].args[2] == writes[0].args[2] + 127


MULTICALL = """
    adr x0, list
    mov x1, #3
    xen_hypercall __HYPERVISOR_multicall
    adr x9, list
    ldr x1, [x9, #8]
    ldr x2, [x9, #72]
    ldr x3, [x9, #136]
    stp x1, x2, [x9, #200]
    str x3, [x9, #216]
    mov x0, #0
    mov x1, #24
    add x2, x9, #200
    xen_hypercall __HYPERVISOR_console_io
    shutdown 0
    .balign 8
list:
    .quad 17, 0, 0, 0, 0, 0, 0, 0
    .quad 17, 0, 7, 0, 0, 0, 0, 0
    .quad 99, 0, 0, 0, 0, 0, 0, 0
    .space 32
"""


@pytest.mark.parametrize("every", [0, 1])
def test_multicall_continues_between_entries(every):
    result = run_guest(assemble_guest("a64", MULTICALL), preempt_every=every)
    assert struct.unpack("<3q", result.console) == (0x40011, 4096, -38)
    assert len([r for r in result.trace if r.name == "multicall"]) == (3 if every else 1)
