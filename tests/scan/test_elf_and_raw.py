"""Scans of binaries built here with the cross toolchains: stubs, how numbers are set, hazards,
and the same code as a plain binary (--isa/--base)."""
from pathlib import Path

import pytest

from xenhvc.scan import scan_file
from xenhvc.scan.density import density

from .conftest import by_function

FUNC = """
.macro func name
.globl \\name
.type \\name, %function
{thumb}
\\name:
.endm
.macro endf name
.size \\name, . - \\name
.endm
"""

A64 = FUNC.format(thumb="") + """
.text
func xen_console_io
    mov x16, #18
    hvc #0xea1
    ret
endf xen_console_io
func privcmd_call
    mov x16, x0
    mov x0, x1
    mov x1, x2
    mov x2, x3
    mov x3, x4
    mov x4, x5
    hvc #0xea1
    ret
endf privcmd_call
func movk_chain
    movz x16, #0, lsl #16
    movk x16, #42
    hvc #0xea1
    ret
endf movk_chain
func literal
    ldr x16, 1f
    hvc #0xea1
    ret
    .balign 8
1:  .quad 34
endf literal
func bad_imm
    mov x16, #17
    hvc #0xea0
    ret
endf bad_imm
func not_in_table
    mov x16, #26
    hvc #0xea1
    ret
endf not_in_table
func deprecated
    mov x16, #6
    hvc #0xea1
    ret
endf deprecated
func call_between
    mov x16, #29
    bl helper
    hvc #0xea1
    ret
endf call_between
func target_between
    mov x16, #29
    cbz x0, 1f
    nop
1:  hvc #0xea1
    ret
endf target_between
func psci_version
    mov w0, #0x84000000
    hvc #0
    ret
endf psci_version
func helper
    ret
endf helper
"""

ARM_COMMON = """
func xen_console_io
    mov r12, #18
    hvc #0xea1
    bx lr
endf xen_console_io
func privcmd_call
    push {r4}
    mov r12, r0
    mov r0, r1
    mov r1, r2
    mov r2, r3
    ldr r3, [sp, #8]
    ldr r4, [sp, #4]
    hvc #0xea1
    pop {r4}
    bx lr
endf privcmd_call
func movw_movt
    movw r12, #42
    movt r12, #0
    hvc #0xea1
    bx lr
endf movw_movt
func literal
    ldr r12, 1f
    hvc #0xea1
    bx lr
    .balign 4
1:  .word 34
endf literal
func orr_chain
    mov r12, #16
    orr r12, r12, #2
    hvc #0xea1
    bx lr
endf orr_chain
func bad_imm
    mov r12, #17
    hvc #0x1234
    bx lr
endf bad_imm
func not_in_table
    mov r12, #99
    hvc #0xea1
    bx lr
endf not_in_table
func call_between
    push {lr}
    mov r12, #29
    bl helper
    hvc #0xea1
    pop {pc}
endf call_between
func hypfs_no_r4_save
    ldr r4, [sp]
    mov r12, #42
    hvc #0xea1
    bx lr
endf hypfs_no_r4_save
func hypfs_r4_saved
    push {r4}
    ldr r4, [sp, #4]
    mov r12, #42
    hvc #0xea1
    pop {r4}
    bx lr
endf hypfs_r4_saved
func psci_off
    movw r0, #8
    movt r0, #0x8400
    hvc #0
    bx lr
endf psci_off
func helper
    bx lr
endf helper
"""

A32 = FUNC.format(thumb="") + ".text\n" + ARM_COMMON
T32 = FUNC.format(thumb=".thumb_func") + ".text\n" + ARM_COMMON + """
.balign 4
func arm_words_in_thumb
    .word 0xe3a0c012
    .word 0xe140ea71
    bx lr
endf arm_words_in_thumb
.balign 4
func arm_setter_thumb_hvc
    .word 0xe3a0c012
    hvc #0xea1
    bx lr
endf arm_setter_thumb_hvc
"""

SOURCES = {"a64": A64, "a32": A32, "t32": T32}


def _hz(site):
    return [h.code for h in site.hazards]


@pytest.mark.parametrize("isa", ["a64", "a32", "t32"])
def test_stubs_and_number_sources(build, isa):
    elf = build.elf(isa, SOURCES[isa])
    sites = scan_file(elf).sites
    f = by_function(sites)
    assert {s.isa for s in sites} == {isa} | ({"a32"} if isa == "t32" else set())
    assert (f["xen_console_io"].number, f["xen_console_io"].name, _hz(f["xen_console_io"])) == (18, "console_io", [])
    p = f["privcmd_call"]
    assert p.number is None and "argument" in p.dynamic and p.number_source in ("x0", "r0")
    assert p.shuffles >= 4 and _hz(p) == []
    chain = f["movk_chain"] if isa == "a64" else f["movw_movt"]
    assert chain.name == "hypfs_op" and len(chain.setters) == 2
    assert f["literal"].name == "hvm_op"
    if isa != "a64":
        assert f["orr_chain"].name == "console_io"
        assert f["hypfs_r4_saved"].hazards == []
    smccc = f["psci_version"] if isa == "a64" else f["psci_off"]
    assert smccc.kind == "smccc" and smccc.name in ("PSCI_0_2_FN32_PSCI_VERSION", "PSCI_0_2_FN32_SYSTEM_OFF")


@pytest.mark.parametrize("isa", ["a64", "a32", "t32"])
def test_hazards(build, isa):
    f = by_function(scan_file(build.elf(isa, SOURCES[isa])).sites)
    assert _hz(f["bad_imm"]) == ["wrong-immediate"]
    assert "undefined-instruction" in f["bad_imm"].hazards[0].message
    assert _hz(f["not_in_table"]) == ["number-not-in-table"]
    assert "-ENOSYS" in f["not_in_table"].hazards[0].message
    assert _hz(f["call_between"]) == ["veneer-window"]
    assert "veneer" in f["call_between"].hazards[0].message
    if isa == "a64":
        assert _hz(f["deprecated"]) == ["number-not-in-table"]
        assert "deprecated" in f["deprecated"].hazards[0].message
        assert set(_hz(f["target_between"])) == {"veneer-window"}
        assert len(f["target_between"].hazards) == 2  # the branch and its target
    else:
        assert _hz(f["hypfs_no_r4_save"]) == ["r4-not-preserved"]
        assert "callee-saved" in f["hypfs_no_r4_save"].hazards[0].message


def test_thumb_hazards(build):
    sites = scan_file(build.elf("t32", SOURCES["t32"])).sites
    f = by_function(sites)
    w = f["arm_words_in_thumb"]
    assert w.isa == "a32" and _hz(w) == ["thumb-encoding"] and "Thumb" in w.hazards[0].message
    s = f["arm_setter_thumb_hvc"]
    assert s.isa == "t32" and s.number is None and "thumb-encoding" in _hz(s)


@pytest.mark.parametrize("isa,flag", [("a64", "a64"), ("a32", "aarch32"), ("t32", "aarch32")])
def test_plain_binary_finds_the_same_sites(build, isa, flag):
    elf = build.elf(isa, SOURCES[isa], base=0x40080000)
    from_elf = scan_file(elf).sites
    raw = scan_file(Path(elf).with_suffix(".raw"), isa=flag, base=0x40080000).sites
    # T32 test code also holds A32 words in $d (arm_words_in_thumb): the raw scan cannot know the state
    want = {(s.address, s.isa, s.imm, s.number) for s in from_elf if not s.hazards or s.hazards[0].code != "thumb-encoding"}
    got = {(s.address, s.isa, s.imm, s.number) for s in raw}
    assert want <= got
    assert all(s.function is None for s in raw)


def test_plain_binary_needs_an_isa(tmp_path):
    from xenhvc.errors import UsageError

    p = tmp_path / "blob.bin"
    p.write_bytes(b"\0" * 64)
    with pytest.raises(UsageError, match="--isa"):
        scan_file(p)


def test_density_thumb_r7(build):
    src = FUNC.format(thumb=".thumb_func") + ".text\nfunc f\n    mov.w r12, #18\n    hvc #0xea1\n    bx lr\nendf f\n"
    rows = density([scan_file(build.elf("t32", src))])
    (t32,) = rows
    assert (t32.isa, t32.sites, t32.compiled_bytes, t32.best_numreg_bytes, t32.r7_bytes, t32.saving) == \
        ("t32", 1, 4, 4, 2, 2)
