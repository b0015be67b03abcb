"""check-stubs on deliberately broken stubs, on Linux's own sequences, raw images, the CLI."""
from __future__ import annotations

import json
import shutil
import subprocess

import pytest
from click.testing import CliRunner

from xenhvc.checkstubs import check_bytes, check_file
from xenhvc.checkstubs.commands import check_stubs_cmd

AS = {"a64": "aarch64-linux-gnu-as", "a32": "arm-linux-gnueabihf-as", "t32": "arm-linux-gnueabihf-as"}
HEAD = {"a64": "    .text\n",
        "a32": "    .syntax unified\n    .arch armv7-a\n    .arch_extension virt\n    .text\n    .arm\n",
        "t32": "    .syntax unified\n    .arch armv7-a\n    .arch_extension virt\n    .text\n    .thumb\n"}


def assemble(tmp_path, isa: str, funcs: dict[str, str], name: str = "s") -> str:
    """An object file with one global function per entry."""
    if shutil.which(AS[isa]) is None:
        pytest.skip(f"{AS[isa]} not installed")
    src = [HEAD[isa]]
    for fn, body in funcs.items():
        src.append(f"    .globl {fn}\n    .type {fn}, %function\n" + ("    .thumb_func\n" if isa == "t32" else "")
                   + f"{fn}:\n{body}\n    .size {fn}, . - {fn}\n")
    (tmp_path / f"{name}.S").write_text("".join(src))
    out = tmp_path / f"{name}.o"
    proc = subprocess.run([AS[isa], "-o", str(out), str(tmp_path / f"{name}.S")], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return str(out)


def one(tmp_path, isa, name, body):
    [rep] = check_file(assemble(tmp_path, isa, {name: body}))
    return rep


# --- good stubs --------------------------------------------------------------------------------

def test_linux_arm64_stubs_pass(tmp_path):
    obj = assemble(tmp_path, "a64", {
        "HYPERVISOR_xen_version": "    mov x16, #17\n    hvc #0xea1\n    ret",
        "privcmd_call": "    mov x16, x0\n    mov x0, x1\n    mov x1, x2\n    mov x2, x3\n    mov x3, x4\n"
                        "    mov x4, x5\n    hvc #0xea1\n    ret"})
    reps = {r.name: r for r in check_file(obj)}
    assert all(r.ok for r in reps.values()), [r.errors for r in reps.values()]
    assert reps["privcmd_call"].mapping == {"x0": "arg2 (x1)", "x1": "arg3 (x2)", "x2": "arg4 (x3)",
                                            "x3": "arg5 (x4)", "x4": "arg6 (x5)"}


@pytest.mark.parametrize("isa", ["a32", "t32"])
def test_linux_arm32_hypercall5_passes(tmp_path, isa):
    rep = one(tmp_path, isa, "HYPERVISOR_hypfs_op",
              "    stmdb sp!, {r4}\n    ldr r4, [sp, #4]\n    mov r12, #42\n    hvc #0xea1\n"
              "    ldm sp!, {r4}\n    bx lr")
    assert rep.ok, rep.errors
    assert rep.mapping["r4"] == "arg5 ([sp, #0])" and rep.not_preserved == [] and rep.stack_delta == 0


# --- Linux's arm32 privcmd_call (arch/arm/xen/hypercall.S), instruction for instruction -----------

LINUX_ARM32_PRIVCMD = {
    # CONFIG_CPU_SW_DOMAIN_PAN: uaccess_enable/disable write DACR through r4
    "privcmd_call": """    stmdb sp!, {r4}
    mov r12, r0
    mov r0, r1
    mov r1, r2
    mov r2, r3
    ldr r3, [sp, #8]
    mov r4, #0x51
    mcr p15, 0, r4, c3, c0, 0
    isb
    ldr r4, [sp, #4]
    hvc #0xea1
    mov r4, #0x55
    mcr p15, 0, r4, c3, c0, 0
    isb
    ldm sp!, {r4}
    bx lr""",
    # older kernels (and kernels without SW PAN): the same stack slots, no uaccess lines
    "privcmd_call_nopan": """    stmdb sp!, {r4}
    mov r12, r0
    mov r0, r1
    mov r1, r2
    mov r2, r3
    ldr r3, [sp, #8]
    ldr r4, [sp, #4]
    hvc #0xea1
    ldm sp!, {r4}
    bx lr""",
}


@pytest.mark.parametrize("isa", ["a32", "t32"])
def test_linux_arm32_privcmd_call_swaps_a4_and_a5(tmp_path, isa):
    reps = check_file(assemble(tmp_path, isa, LINUX_ARM32_PRIVCMD))
    assert len(reps) == 2
    for rep in reps:
        assert not rep.ok
        assert rep.kind == "number-first" and rep.number_from == "arg1"
        # privcmd_call(op, a1, a2, a3, a4, a5): a4 = arg5 at [sp], a5 = arg6 at [sp, #4]
        assert rep.mapping == {"r0": "arg2 (r1)", "r1": "arg3 (r2)", "r2": "arg4 (r3)",
                               "r3": "arg6 ([sp, #4])", "r4": "arg5 ([sp, #0])"}
        assert len(rep.errors) == 1
        assert "r3 <- arg6 ([sp, #4]), expected arg5 ([sp, #0])" in rep.errors[0]
        assert "r4 <- arg5 ([sp, #0]), expected arg6 ([sp, #4])" in rep.errors[0]
        assert rep.not_preserved == [] and rep.stack_delta == 0 and rep.returns_result


# --- broken stubs, each reported precisely ------------------------------------------------------

def test_swapped_arguments(tmp_path):
    rep = one(tmp_path, "a64", "HYPERVISOR_console_io",
              "    mov x16, #18\n    mov x9, x1\n    mov x1, x2\n    mov x2, x9\n    hvc #0xea1\n    ret")
    assert rep.errors == ["arguments not delivered in ABI order: x1 <- arg3 (x2), expected arg2 (x1); "
                          "x2 <- arg2 (x1), expected arg3 (x2) [mapping: x0 <- arg1, x1 <- arg3, x2 <- arg2]"]


def test_a32_swapped_stack_arguments(tmp_path):
    rep = one(tmp_path, "a32", "xen_hypercall5",
              "    push {r4}\n    mov r12, r0\n    mov r0, r1\n    mov r1, r2\n    mov r2, r3\n"
              "    ldr r3, [sp, #8]\n    ldr r4, [sp, #4]\n    hvc #0xea1\n    pop {r4}\n    bx lr")
    assert rep.mapping["r3"] == "arg6 ([sp, #4])" and rep.mapping["r4"] == "arg5 ([sp, #0])"
    assert not rep.ok


@pytest.mark.parametrize("isa", ["a32", "t32"])
def test_r4_not_saved(tmp_path, isa):
    rep = one(tmp_path, isa, "HYPERVISOR_hypfs_op", "    ldr r4, [sp]\n    mov r12, #42\n    hvc #0xea1\n    bx lr")
    assert rep.not_preserved == ["r4"]
    # Xen (debug build) poisons r4 after a 5-argument call: that is what the caller gets back
    assert rep.errors == ["callee-saved register(s) not preserved: r4 = 0xdeadbeef"]
    assert rep.mapping["r4"] == "arg5 ([sp, #0])"


def test_wrong_number_register(tmp_path):
    rep = one(tmp_path, "a64", "HYPERVISOR_xen_version", "    mov x17, #17\n    hvc #0xea1\n    ret")
    assert rep.errors == ["number register x16 not set: it still holds x16's value on entry "
                          "(x17 = 17 (xen_version) instead?)"]
    rep = one(tmp_path, "a32", "HYPERVISOR_sched_op", "    mov r11, #29\n    hvc #0xea1\n    bx lr")
    assert rep.errors[0] == ("number register r12 not set: it still holds r12's value on entry "
                             "(r11 = 29 (sched_op) instead?)")
    assert rep.not_preserved == ["r11"]


def test_wrong_number(tmp_path):
    rep = one(tmp_path, "t32", "HYPERVISOR_xen_version", "    mov r12, #18\n    hvc #0xea1\n    bx lr")
    assert rep.errors == ["passes number 18 (console_io) in r12, but its name says xen_version (17)"]


@pytest.mark.parametrize("isa,hvc", [("a64", "hvc #0"), ("a32", "hvc #0xea2"), ("t32", "hvc #0x1ea1")])
def test_wrong_immediate(tmp_path, isa, hvc):
    nr, ret = ("x16", "ret") if isa == "a64" else ("r12", "bx lr")
    rep = one(tmp_path, isa, "HYPERVISOR_sched_op", f"    mov {nr}, #29\n    {hvc}\n    {ret}")
    imm = int(hvc.split("#")[1], 0)
    assert rep.hvc_immediate == imm
    assert rep.errors == [f"HVC immediate {imm:#x}{' (the SMCCC/PSCI immediate)' if imm == 0 else ''}, "
                          "expected XEN_HYPERCALL_TAG 0xea1"]


def test_stack_unbalanced_and_result_lost(tmp_path):
    rep = one(tmp_path, "a32", "HYPERVISOR_sched_op",
              "    push {r4}\n    mov r12, #29\n    hvc #0xea1\n    mov r0, #0\n    bx lr")
    assert rep.stack_delta == -4
    assert "stack not balanced: sp on return = sp on entry -0x4" in rep.errors
    assert any(e.startswith("does not return Xen's result") for e in rep.errors)


def test_no_hvc_and_runaway(tmp_path):
    obj = assemble(tmp_path, "a64", {"my_hypercall": "    mov x0, #0\n    ret", "loop_hypercall": "1:  b 1b"})
    reps = {r.name: r for r in check_file(obj)}
    assert reps["my_hypercall"].errors == ["never reached an HVC (returned without one)"]
    assert reps["loop_hypercall"].errors[0].startswith("never reached an HVC: did not return within")


# --- raw images and the command line ------------------------------------------------------------

def test_raw_image_with_symbols(tmp_path):
    from xenhvc.arch.aarch32 import ARCH

    hvc = next(e for e in ARCH.hvc if e.isa == "t32").encode(0xEA1)
    # t32: mov.w r12, #29 ; hvc #0xea1 ; bx lr  at 0x100 of a blob loaded at 0x80000
    code = bytes.fromhex("4ff01d0c") + hvc + bytes.fromhex("7047")
    blob = bytes(0x100) + code
    [rep] = check_bytes(blob, [("sched_stub", 0x80101)], "a32", 0x80000)
    assert rep.ok and rep.isa == "t32" and rep.number == 29 and rep.address == 0x80100


def test_cli_table_json_and_exit_codes(tmp_path):
    bad = assemble(tmp_path, "a32", LINUX_ARM32_PRIVCMD, "linux")
    good = assemble(tmp_path, "a64", {"HYPERVISOR_sched_op": "    mov x16, #29\n    hvc #0xea1\n    ret"}, "good")
    r = CliRunner().invoke(check_stubs_cmd, [bad])
    assert r.exit_code == 1
    assert "r0<-arg2, r1<-arg3, r2<-arg4, r3<-arg6, r4<-arg5" in r.output
    assert "error: privcmd_call: arguments not delivered in ABI order" in r.output
    assert "2 stub(s) checked, 2 with errors" in r.output
    r = CliRunner().invoke(check_stubs_cmd, [good, "--json"])
    assert r.exit_code == 0
    doc = json.loads(r.output)
    assert doc["ok"] and doc["stubs"][0]["number"] == 29 and doc["stubs"][0]["hvc_immediate"] == 0xEA1
    r = CliRunner().invoke(check_stubs_cmd, [bad, "--symbol", "privcmd_call_nopan=0x10000"])
    assert r.exit_code == 1 and "1 stub(s) checked" in r.output
    r = CliRunner().invoke(check_stubs_cmd, [good, "--symbol", "oops"])
    assert r.exit_code == 2


def test_unreadable_file_is_an_image_error(tmp_path):
    from xenhvc.errors import ImageError

    r = CliRunner().invoke(check_stubs_cmd, [str(tmp_path / "missing")])
    assert isinstance(r.exception, ImageError) and r.exception.exit_code == 3
    (tmp_path / "x86.o").write_bytes(b"\x7fELF" + bytes(60))
    r = CliRunner().invoke(check_stubs_cmd, [str(tmp_path / "x86.o")])
    assert isinstance(r.exception, ImageError)
