"""Unicorn's exit check at the start of each translated block, rewritten into QEMU's inline test
(cpu/tbstart.py, cpu/native/tbstart.c): the rewrite happens on A64, A32 and T32 code, and what
stops a run through that check still stops it where it did (the time limit on a guest that
never traps, an instruction count), and a guest computes the same."""
import re
import struct

import pytest
from unicorn import Uc

from xenhvc import StopKind
from xenhvc.cpu import aarch32, aarch64, machine, tbstart
from xenhvc.session import RunConfig
from xenhvc.testing import assemble_guest, run_guest

pytestmark = pytest.mark.skipif(tbstart.platform.machine() != "x86_64", reason="the rewrite is for x86-64 hosts")

N = 300_000


def loop(isa: str, n: int = N) -> str:
    """A checksum over n..1 in a 4-instruction loop, printed (8 bytes on A64, 4 on AArch32)."""
    r, width, data = ("x", 8, ".quad") if isa == "a64" else ("r", 4, ".word")
    return f"""
    ldr {r}9, ={n}
    mov {r}1, #0
1:  add {r}1, {r}1, {r}9
    eor {r}1, {r}1, {r}1, lsr #7
    subs {r}9, {r}9, #1
    bne 1b
    adr {r}2, out
    str {r}1, [{r}2]
    mov {r}0, #0
    mov {r}1, #{width}
    xen_hypercall __HYPERVISOR_console_io
    shutdown 0
    .ltorg
    .balign {width}
out: {data} 0
"""


def expected(bits: int) -> bytes:
    mask, x = (1 << bits) - 1, 0
    for i in range(N, 0, -1):
        x = (x + i) & mask
        x ^= x >> 7
    return x.to_bytes(bits // 8, "little")


@pytest.fixture(params=["inline", "unicorn's call"])
def rewrite(request, monkeypatch):
    """Each test runs with the checks rewritten (as xenhvc runs) and with Unicorn's own code;
    yields whether the rewrite is on."""
    if request.param != "inline":
        monkeypatch.setattr(machine, "inline_exit_checks", lambda uc, glue: None)
    return request.param == "inline"


@pytest.mark.parametrize("glue", [aarch64, aarch32])
def test_the_site_is_found_on_this_unicorn(glue):
    uc = Uc(glue.UC_ARCH, glue.UC_MODE)
    uc.mem_map(0x1000, 0x1000)
    site = tbstart.find_site(uc, glue)
    assert site is not None
    assert -64 <= site.icount_disp < 0  # the word is just before env, as in QEMU
    assert not site.lo <= site.helper < site.hi  # the helper is Unicorn's, not generated code


@pytest.mark.parametrize("isa", ["a64", "a32", "t32"])
def test_a_loop_computes_the_same(rewrite, isa):
    result = run_guest(assemble_guest(isa, loop(isa)), RunConfig(timeout=30))
    assert result.stop.kind == StopKind.SHUTDOWN
    assert result.console == expected(64 if isa == "a64" else 32)
    assert (result.inline_exit_checks > 0) == rewrite


@pytest.mark.parametrize("isa", ["a64", "a32", "t32"])
def test_a_guest_that_never_traps_stops_at_the_time_limit(rewrite, isa):
    # the run's timer stops the emulator through the check at the start of the next block
    result = run_guest(assemble_guest(isa, "1: b 1b"), RunConfig(timeout=0.3))
    assert result.stop.kind == StopKind.TIME_LIMIT
    assert (result.inline_exit_checks > 0) == rewrite


@pytest.mark.parametrize("isa", ["a64", "a32"])
def test_an_instruction_count_stops_at_the_same_place(monkeypatch, isa):
    # the loop's console write is the 4009th instruction (A64; A32: 4017th): around it, each
    # limit stops the guest at the same place with and without the rewrite
    image = assemble_guest(isa, loop(isa, 1000))
    outcomes = {}
    for side in ("inline", "call"):
        if side == "call":
            monkeypatch.setattr(machine, "inline_exit_checks", lambda uc, glue: None)
        outcomes[side] = [(r.stop.kind, r.console, r.inline_exit_checks > 0)
                          for r in (run_guest(image, RunConfig(max_instructions=n, timeout=10))
                                    for n in range(4000, 4025))]
    assert [o[:2] for o in outcomes["inline"]] == [o[:2] for o in outcomes["call"]]
    assert len({o[1] for o in outcomes["inline"]}) == 2  # stopped before the write, and after it
    assert all(o[2] for o in outcomes["inline"]) and not any(o[2] for o in outcomes["call"])


def test_nothing_is_rewritten_where_the_helper_is_not_as_expected(monkeypatch):
    monkeypatch.setattr(tbstart, "HELPER_CODE", re.compile(b"\x00" * 17))
    result = run_guest(assemble_guest("a64", loop("a64")), RunConfig(timeout=30))
    assert result.console == expected(64) and result.inline_exit_checks == 0


def test_the_rewritten_code_is_qemus_test():
    """The 17 bytes at the start of a block: cmp dword [rbp + icount], 0; jns over; call stub."""
    uc = Uc(aarch64.UC_ARCH, aarch64.UC_MODE)
    uc.mem_map(0, 0x1000)
    uc.mem_write(0, bytes.fromhex("1f2003d5") * 3 + bytes.fromhex("00000014"))  # nop; nop; nop; b .
    site = tbstart.find_site(uc, aarch64)
    checks = tbstart.InlineExitChecks(uc, site)
    uc.emu_start(0, 0x10, count=8)  # the block and its self-edge: the hook runs
    assert checks.rewritten >= 1
    buf = struct.unpack("<Q", tbstart.ctypes.string_at(site.code_gen_buffer_field, 8))[0]
    end = struct.unpack("<Q", tbstart.ctypes.string_at(site.code_gen_ptr_field, 8))[0]
    code = tbstart.ctypes.string_at(buf, end - buf)
    test = re.compile(rb"\x83\xbd" + struct.pack("<i", site.icount_disp) + rb"\x00\x79(\x08|\x09)\xe8", re.S)
    assert len(test.findall(code)) == checks.rewritten
    assert b"\x48\xbf" + struct.pack("<Q", uc._uch.value) + b"\x33\xf6\xe8" not in code
