"""The native fast path (cpu/native/hvc.c): a hypercall the model marked pure (Xen.pure) is answered
again from a memo of the model's own answer, with the same result in x0/r0, and nothing else is:
not while tracing, not on a debug build, not for calls that change state."""
import pytest

from xenhvc import ExitCode, RunConfig
from xenhvc.hypervisor.build import DEBIAN_4_17

VERSION = DEBIAN_4_17.version  # 0x40011
from xenhvc.testing import assemble_guest, run_guest

N = 200

# x9 counts down; every answer must equal the first (else crash); x10 keeps it; the last one
# is written to the console as 8 bytes
A64_LOOP = f"""
    ldr x9, ={N}
    mov x0, #0
    mov x1, #{{arg}}
    mov x16, #{{nr}}
    hvc #0xea1
    mov x10, x0
1:  mov x0, #0
    mov x1, #{{arg}}
    mov x16, #{{nr}}
    hvc #0xea1
    cmp x0, x10
    bne 2f
    subs x9, x9, #1
    bne 1b
    adr x2, out
    str x10, [x2]
    mov x0, #0
    mov x1, #8
    xen_hypercall __HYPERVISOR_console_io
    shutdown 0
2:  shutdown 3
    .ltorg
    .balign 8
out: .quad 0
"""

A32_LOOP = f"""
    ldr r9, ={N}
    mov r0, #0
    mov r1, #{{arg}}
    mov r12, #{{nr}}
    hvc #0xea1
    mov r10, r0
1:  mov r0, #0
    mov r1, #{{arg}}
    mov r12, #{{nr}}
    hvc #0xea1
    cmp r0, r10
    bne 2f
    subs r9, r9, #1
    bne 1b
    adr r2, out
    str r10, [r2]
    mov r0, #0
    mov r1, #4
    xen_hypercall __HYPERVISOR_console_io
    shutdown 0
2:  shutdown 3
    .ltorg
    .balign 4
out: .word 0
"""


def _loop(isa: str, nr: int = 17, arg: int = 0) -> bytes:
    return assemble_guest(isa, (A64_LOOP if isa == "a64" else A32_LOOP).format(nr=nr, arg=arg))


@pytest.mark.parametrize("isa", ["a64", "a32", "t32"])
def test_xen_version_is_answered_natively_after_the_first_call(isa):
    r = run_guest(_loop(isa), RunConfig(timeout=10))
    assert r.stop.exit_code is ExitCode.POWEROFF
    assert int.from_bytes(r.console, "little") == VERSION
    assert r.fast_hypercalls == N  # all but the first of the N + 1 calls


@pytest.mark.parametrize("isa", ["a64", "a32"])
def test_a_number_outside_the_table_is_enosys_natively_too(isa):
    r = run_guest(_loop(isa, nr=99), RunConfig(timeout=10))
    assert r.stop.exit_code is ExitCode.POWEROFF
    assert int.from_bytes(r.console, "little") == (-38) & (2 ** (8 * len(r.console)) - 1)
    assert r.fast_hypercalls == N


def test_each_argument_pair_has_its_own_answer():
    # xen_version(XENVER_version, 5) is the same version, remembered under its own key
    r = run_guest(_loop("a64", arg=5), RunConfig(timeout=10))
    assert int.from_bytes(r.console, "little") == VERSION and r.fast_hypercalls == N


def test_tracing_sees_every_call():
    r = run_guest(_loop("a64"), RunConfig(trace=True, timeout=10))
    assert r.stop.exit_code is ExitCode.POWEROFF and r.fast_hypercalls == 0
    assert sum(t.name == "xen_version" for t in r.trace) == N + 1


def test_a_debug_build_poisons_after_every_call():
    r = run_guest(_loop("a64"), RunConfig(debug_build=True, timeout=10))
    assert r.stop.exit_code is ExitCode.POWEROFF and r.fast_hypercalls == 0


def test_calls_that_change_state_always_reach_the_model():
    # console_io writes: not pure; each one prints
    image = assemble_guest("a64", """
    mov x9, #50
1:  mov x0, #0
    mov x1, #1
    adr x2, ch
    xen_hypercall __HYPERVISOR_console_io
    subs x9, x9, #1
    bne 1b
    shutdown 0
ch: .ascii "x"
    .balign 4
""")
    r = run_guest(image, RunConfig(timeout=10))
    assert r.console == b"x" * 50 and r.fast_hypercalls == 0
