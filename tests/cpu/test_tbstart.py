"""Unicorn's exit check at the start of each translated block, rewritten into QEMU's inline test
(cpu/tbstart.py, cpu/native/tbstart.c): the rewrite happens on A64, A32 and T32 code, and what
stops a run through that check still stops it where it did (the time limit on a guest that
never traps, an instruction count), and a guest computes the same."""
import json
import mmap
import re
import struct
import subprocess
import sys
import threading

import capstone
import pytest
from unicorn import Uc

from xenhvc import StopKind
from xenhvc.cpu import aarch32, aarch64, machine, native, tbstart
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


#: runs an image under limits in a fresh interpreter and prints, for each, the stop, the console
#: and the rewrites: a broken inline test would never stop the emulator, and that must fail the
#: test (subprocess timeout), not stall the suite
CHILD = """
import json, sys
from xenhvc.cpu import machine
from xenhvc.session import RunConfig, run_image
if sys.argv[2] == "off":
    machine.inline_exit_checks = lambda uc, glue: None
image = open(sys.argv[1], "rb").read()
print(json.dumps([[r.stop.kind.name, r.console.hex(), r.inline_exit_checks]
                  for r in (run_image(image, RunConfig(**limits)) for limits in json.loads(sys.argv[3]))]))
"""


def run_in_child(tmp_path, image: bytes, rewrite: bool, limits: list[dict]) -> list[list]:
    path = tmp_path / "guest.img"
    path.write_bytes(image)
    out = subprocess.run([sys.executable, "-c", CHILD, str(path), "on" if rewrite else "off", json.dumps(limits)],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


@pytest.mark.parametrize("isa", ["a64", "a32", "t32"])
def test_a_guest_that_never_traps_stops_at_the_time_limit(tmp_path, rewrite, isa):
    # the run's timer stops the emulator through the check at the start of the next block
    [(stop, console, rewritten)] = run_in_child(tmp_path, assemble_guest(isa, "nop\n    b 1f\n1:  b 1b"), rewrite,
                                               [{"timeout": 0.3}])
    assert stop == "TIME_LIMIT" and console == ""
    assert (rewritten > 0) == rewrite


@pytest.mark.parametrize("isa", ["a64", "a32"])
def test_an_instruction_count_stops_at_the_same_place(tmp_path, isa):
    # the loop's console write is the 4009th instruction (A64; A32: 4017th): around it, each
    # limit stops the guest at the same place with and without the rewrite
    image = assemble_guest(isa, loop(isa, 1000))
    limits = [{"max_instructions": n, "timeout": 10} for n in range(4000, 4025)]
    inline, call = (run_in_child(tmp_path, image, side, limits) for side in (True, False))
    assert [o[:2] for o in inline] == [o[:2] for o in call]
    assert len({o[1] for o in inline}) == 2  # stopped before the write, and after it
    assert all(o[2] for o in inline) and not any(o[2] for o in call)


def test_an_engine_made_in_another_thread_is_rewritten_too():
    # its engine is allocated near the code buffer, and TCG loads it with lea rdi, [rip + d]
    results = []
    worker = threading.Thread(target=lambda: results.append(run_guest(assemble_guest("a64", loop("a64")),
                                                                       RunConfig(timeout=30))))
    worker.start()
    worker.join()
    assert results[0].console == expected(64) and results[0].inline_exit_checks > 0


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


def test_rewriting_goes_on_after_a_flush():
    """Rewriting goes on after Unicorn drops its translations (a full buffer does the same), and
    a rewritten block still stops at the time limit."""
    uc = Uc(aarch64.UC_ARCH, aarch64.UC_MODE)
    uc.mem_map(0, 0x1000)
    uc.mem_write(0, bytes.fromhex("1f2003d5" "01000014" "00000014"))  # nop; b 1f; 1: b 1b
    checks = tbstart.InlineExitChecks(uc, tbstart.find_site(uc, aarch64))
    counts = []
    for _ in range(2):
        uc.emu_start(0, 0x100, timeout=100_000)  # Unicorn's own timer: uc_emu_stop
        assert uc.reg_read(aarch64.REGS["pc"]) == 8  # stopped in the loop
        counts.append(checks.rewritten)
        uc.ctl_flush_tb()
    assert 0 < counts[0] < counts[1]


# -- the rewrite itself, on code written here: every form TCG emits for the call ------------------
UC, ICOUNT = 0x0000_5555_1234_5678, -16
FORMS = {  # how rdi gets uc, how the helper is called
    ("movabs", "direct"): 17, ("movabs", "indirect"): 18, ("lea", "direct"): 14, ("lea", "indirect"): 15}


def _call_site(base: int, at: int, load: str, call: str, helper: int, slot: int, uc: int) -> bytes:
    code = (b"\x48\xbf" + struct.pack("<Q", uc) if load == "movabs"
            else b"\x48\x8d\x3d" + struct.pack("<i", uc - (base + at + 7)))
    code += b"\x33\xf6"
    here = base + at + len(code)
    code += (b"\xe8" + struct.pack("<i", helper - (here + 5)) if call == "direct"
             else b"\xff\x15" + struct.pack("<i", slot - (here + 6)))
    return code


def test_each_form_of_the_call_becomes_the_inline_test():
    region = mmap.mmap(-1, 1 << 20, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
    base = tbstart.ctypes.addressof(tbstart.ctypes.c_char.from_buffer(region))
    helper, slot, uc_here, code = base, base + 0x100, base + 0x200, 0x1000
    region[0:1] = b"\xc3"
    region[0x100:0x110] = struct.pack("<QQ", helper, helper + 1)  # the helper's address, another
    sites, at = {}, code
    for (load, call), length in FORMS.items():
        uc = uc_here if load == "lea" else UC
        for target_ok in (True, False):  # a call elsewhere is left alone
            site = _call_site(base, at, load, call, helper if target_ok else helper + 1,
                              slot if target_ok else slot + 8, uc)
            assert len(site) == length
            region[at:at + length] = site
            sites[at] = (load, call, length, target_ok, site)
            at += length + 16
    buf, ptr = (tbstart.ctypes.c_uint64(base + code), tbstart.ctypes.c_uint64(base + at))
    lib = native._library()
    for uc in (UC, uc_here):  # one engine's pointer per run: the other's sites are not its own
        state = native._TbStartState(tbstart.ctypes.addressof(buf), tbstart.ctypes.addressof(ptr), base,
                                     base + len(region), helper, uc, ICOUNT)
        assert lib.xenhvc_tbstart_init(tbstart.ctypes.byref(state)) == 0
        lib.xenhvc_tbstart_edge(None, None, None, tbstart.ctypes.byref(state))
        stub = state.stub
        x86 = capstone.Cs(capstone.CS_ARCH_X86, capstone.CS_MODE_64)
        assert [(i.mnemonic, i.op_str) for i in x86.disasm(tbstart.ctypes.string_at(stub, 24), stub)] == [
            ("movabs", f"rdi, {uc:#x}"), ("xor", "esi, esi"), ("movabs", f"rax, {helper:#x}"), ("jmp", "rax")]
        rewritten = 0
        for at, (load, call, length, target_ok, site) in sites.items():
            now = bytes(region[at:at + length])
            if not (target_ok and (uc == uc_here) == (load == "lea")):
                assert now == site, (load, call, target_ok)
                continue
            rewritten += 1
            insns = [(i.mnemonic, i.op_str) for i in x86.disasm(now, base + at)]
            assert insns[:3] == [("cmp", f"dword ptr [rbp - {-ICOUNT:#x}], 0"), ("jns", f"{base + at + length:#x}"),
                                 ("call", f"{stub:#x}")]
            assert all(m == "nop" for m, _ in insns[3:]) and sum(len(i.bytes) for i in x86.disasm(now, 0)) == length
            region[at:at + length] = site  # for the next engine
        assert state.rewritten == rewritten == 2
        lib.xenhvc_tbstart_free(tbstart.ctypes.byref(state))
