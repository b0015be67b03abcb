"""The native fast path (cpu/native/hvc.c): a hypercall the model marked pure (Xen.pure) is answered
again from a memo of the model's own answer, with the same result in x0/r0, and nothing else is:
not on a debug build, not for calls that change state. A traced run gets the same trace either
way: the memo's answers are logged and become repeats of the model's record."""
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


@pytest.mark.parametrize("isa", ["a64", "a32", "t32"])
def test_tracing_sees_every_call(isa, monkeypatch):
    r = run_guest(_loop(isa), RunConfig(trace=True, timeout=10))
    # traced, the memo is per call site: the loop's first call is the model's too
    assert r.stop.exit_code is ExitCode.POWEROFF and r.fast_hypercalls == N - 1
    assert sum(t.name == "xen_version" for t in r.trace) == N + 1
    assert [t.json() for t in r.trace] == [t.json() for t in _traced_python_only(_loop(isa), monkeypatch).trace]


# Three call sites a round: A and C the same call at two PCs, B other arguments (so every call
# starts a new run in the native log, which fills: 3 * ROUNDS > LOG_SIZE); a console write (not
# pure: the model's own record) every 64 rounds; an unknown number (traced with its registers).
ROUNDS = 700
TRACED = f"""
    ldr x9, ={ROUNDS}
1:  mov x0, #0
    mov x1, #0
    mov x16, #17
    hvc #0xea1
    mov x0, #0
    mov x1, #1
    mov x16, #17
    hvc #0xea1
    mov x0, #0
    mov x1, #0
    mov x16, #17
    hvc #0xea1
    mov x0, #1
    mov x1, #2
    mov x2, #3
    mov x16, #99
    hvc #0xea1
    and x3, x9, #63
    cbnz x3, 2f
    mov x0, #0
    mov x1, #1
    adr x2, ch
    xen_hypercall __HYPERVISOR_console_io
2:  subs x9, x9, #1
    bne 1b
    shutdown 0
    .ltorg
ch: .ascii "x"
    .balign 4
"""


def _traced_python_only(image, monkeypatch):
    from xenhvc.cpu import machine
    with monkeypatch.context() as m:
        m.setattr(machine, "native_hooks_available", lambda uc: False)
        return run_guest(image, RunConfig(trace=True, timeout=30))


def test_a_traced_run_has_the_same_trace_natively_as_through_python(monkeypatch):
    image = assemble_guest("a64", TRACED)
    native = run_guest(image, RunConfig(trace=True, timeout=30))
    python = _traced_python_only(image, monkeypatch)
    assert native.fast_hypercalls > 2 * ROUNDS and python.fast_hypercalls == 0
    assert native.stop.exit_code is python.stop.exit_code is ExitCode.POWEROFF
    assert native.console == python.console == b"x" * (ROUNDS // 64)
    assert len(native.trace) == len(python.trace) == 4 * ROUNDS + ROUNDS // 64 + 1
    assert [t.json() for t in native.trace] == [t.json() for t in python.trace]
    # the two sites of the same call keep their own addresses
    assert len({t.pc for t in native.trace if t.args_text == "XENVER_version, NULL"}) == 2


def test_on_trace_gets_repeats_in_order(monkeypatch):
    from xenhvc.session import run_image
    image = assemble_guest("a64", TRACED.replace(f"={ROUNDS}", "=130"))
    seen = []
    r = run_image(image, RunConfig(timeout=30, trace=True), on_trace=lambda record, count: seen.append((record, count)))
    assert [t for t, n in seen for _ in range(n)] == list(r.trace)
    assert len(r.trace) == 4 * 130 + 130 // 64 + 1


def test_repeats_of_one_call_are_one_record_with_a_count():
    from xenhvc.session import run_image
    seen = []
    r = run_image(_loop("a64"), RunConfig(timeout=10), on_trace=lambda record, count: seen.append((record.name, count)))
    assert seen[:3] == [("xen_version", 1), ("xen_version", 1), ("xen_version", N - 1)]
    assert r.fast_hypercalls == N - 1
    assert r.trace == ()  # streamed, not kept: RunConfig.trace was not asked for


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


# SMCCC: the Spectre workarounds Linux calls on every entry from user space (HVC #0, function id
# in x0/r0). x2/r2 and x3/r3 hold 7 before each call; the guest ORs together what it sees after
# each call, in the registers the model answers (x0/r0 .. x3/r3) and writes that as 4 words.
A64_SMCCC = f"""
    ldr x9, ={N}
    mov x12, #0
    mov x13, #0
    mov x14, #0
    mov x15, #0
1:  ldr x0, ={{fid}}
    mov x1, #1
    mov x2, #7
    mov x3, #7
    hvc #0
    orr x12, x12, x0
    orr x13, x13, x1
    orr x14, x14, x2
    orr x15, x15, x3
    subs x9, x9, #1
    bne 1b
    adr x2, out
    stp w12, w13, [x2]
    stp w14, w15, [x2, #8]
    mov x0, #0
    mov x1, #16
    xen_hypercall __HYPERVISOR_console_io
    shutdown 0
    .ltorg
    .balign 8
out: .space 16
"""

A32_SMCCC = f"""
    ldr r9, ={N}
    mov r4, #0
    mov r5, #0
    mov r6, #0
    mov r7, #0
1:  ldr r0, ={{fid}}
    mov r1, #1
    mov r2, #7
    mov r3, #7
    hvc #0
    orr r4, r4, r0
    orr r5, r5, r1
    orr r6, r6, r2
    orr r7, r7, r3
    subs r9, r9, #1
    bne 1b
    adr r2, out
    str r4, [r2]
    str r5, [r2, #4]
    str r6, [r2, #8]
    str r7, [r2, #12]
    mov r0, #0
    mov r1, #16
    xen_hypercall __HYPERVISOR_console_io
    shutdown 0
    .ltorg
    .balign 4
out: .space 16
"""

WORKAROUND_1, WORKAROUND_2 = 0x80008000, 0x80007FFF


def _smccc(isa: str, fid: int, config: RunConfig = RunConfig(timeout=10)):
    r = run_guest(assemble_guest(isa, (A64_SMCCC if isa == "a64" else A32_SMCCC).format(fid=fid)), config)
    assert r.stop.exit_code is ExitCode.POWEROFF, r.stop
    return r, tuple(int.from_bytes(r.console[i:i + 4], "little") for i in range(0, 16, 4))


@pytest.mark.parametrize("fid, seen", [(WORKAROUND_2, (0, 0, 0, 0)), (WORKAROUND_1, (0, 0, 7, 7))])
def test_a64_spectre_workarounds_are_answered_natively_as_the_model_answers(fid, seen):
    # AArch64: WORKAROUND_2 zeroes x0..x3, WORKAROUND_1 x0 and x1 (xen/arch/arm/arm64/entry.S)
    r, regs = _smccc("a64", fid)
    assert regs == seen
    assert r.fast_smccc_calls == N - 1  # all but the first


@pytest.mark.parametrize("isa", ["a32", "t32"])
def test_a32_workarounds_leave_the_registers_natively_too(isa):
    r, regs = _smccc(isa, WORKAROUND_2)
    assert regs == (WORKAROUND_2, 1, 7, 7)
    assert r.fast_smccc_calls == N - 1


def test_smccc_calls_that_are_not_pure_reach_the_model():
    r, regs = _smccc("a64", 0x80000000)  # SMCCC_VERSION
    assert regs[0] == 0x10001 and r.fast_smccc_calls == 0


def test_traced_and_deterministic_runs_see_every_smccc_call_in_the_model():
    traced, regs = _smccc("a64", WORKAROUND_2, RunConfig(trace=True, timeout=10))
    assert regs == (0, 0, 0, 0) and traced.fast_smccc_calls == 0
    assert sum(r.name == "ARM_SMCCC_ARCH_WORKAROUND_2" for r in traced.trace) == N
    deterministic, regs = _smccc("a64", WORKAROUND_2, RunConfig(deterministic=True, timeout=10))
    assert regs == (0, 0, 0, 0) and deterministic.fast_smccc_calls == 0
