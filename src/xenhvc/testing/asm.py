"""Assemble guest snippets into images real Xen can boot (arm64 Image, Arm zImage)."""
from __future__ import annotations

import functools
import shutil
import subprocess
import tempfile
from pathlib import Path

from ..abi.hypercalls import Hypercall
from ..abi.xen import XEN_HYPERCALL_TAG
from ..errors import ToolMissingError

ISAS = ("a64", "a32", "t32")
_CROSS = {"a64": "aarch64-linux-gnu-", "a32": "arm-linux-gnueabihf-", "t32": "arm-linux-gnueabihf-"}

_LINKER_SCRIPT = """
ENTRY(_start)
SECTIONS {
  . = 0;
  .text : { *(.text.head) *(.text .text.*) *(.rodata .rodata.*) *(.data .data.*) . = ALIGN(8); _end = .; }
  /DISCARD/ : { *(.note*) *(.comment) *(.ARM.attributes) *(.ARM.exidx*) }
}
"""

# Image header (Documentation/arm64/booting.rst): branch, text_offset 0, image size, flags, magic.
_A64_HEAD = """
    .section .text.head, "ax"
    .globl _start
_start:
    b       guest_start
    .word   0
    .quad   0
    .quad   _end - _start
    .quad   0xa
    .quad   0, 0, 0
    .ascii  "ARM\\x64"
    .word   0
    .text
    .macro xen_hypercall nr
    mov     x16, #\\nr
    hvc     #XEN_HYPERCALL_TAG
    .endm
    .macro shutdown reason
    adr     x1, 9998f
    mov     x0, #2
    xen_hypercall __HYPERVISOR_sched_op
    b       .
    .balign 4
9998: .word \\reason
    .endm
guest_start:
"""

_ZIMAGE_HEAD = """
    .syntax unified
    .arch   armv7-a
    .arch_extension virt
    .section .text.head, "ax"
    .arm
    .globl _start
_start:
    .rept   8
    mov     r0, r0
    .endr
    b       arm_start
    .word   0x016f2818
    .word   0
    .word   _end - _start
    .word   0x04030201
    .macro xen_hypercall nr
    mov     r12, #\\nr
    hvc     #XEN_HYPERCALL_TAG
    .endm
    .macro shutdown reason
    adr     r1, 9998f
    mov     r0, #2
    xen_hypercall __HYPERVISOR_sched_op
    b       .
    .balign 4
9998: .word \\reason
    .endm
arm_start:
"""

_TO_THUMB = """
    adr     r0, guest_start + 1
    bx      r0
    .thumb
    .balign 4
    .thumb_func
guest_start:
"""

_STAY_ARM = """
guest_start:
"""


class AssemblerMissing(ToolMissingError):
    pass


def hypercall_prelude() -> str:
    """``.equ`` lines for every ``__HYPERVISOR_*`` number, generated from the ABI table."""
    lines = [f"    .equ XEN_HYPERCALL_TAG, {XEN_HYPERCALL_TAG:#x}"]
    lines += [f"    .equ __HYPERVISOR_{h.name}, {h.value}" for h in Hypercall]
    return "\n".join(lines) + "\n"


def _source(isa: str, body: str) -> str:
    if isa == "a64":
        head = _A64_HEAD
    else:
        head = _ZIMAGE_HEAD + (_TO_THUMB if isa == "t32" else _STAY_ARM)
    return hypercall_prelude() + head + body + "\n    .balign 8\n"


@functools.lru_cache(maxsize=256)
def assemble_guest(isa: str, body: str) -> bytes:
    """Wrap ``body`` (assembly for ``isa``) in an Image (a64) or zImage (a32, t32) header and
    assemble it. The code runs with the MMU off at an address Xen chooses: use PC-relative
    addressing (adr) only. The macros ``xen_hypercall NR`` and ``shutdown REASON`` are defined."""
    if isa not in ISAS:
        raise ValueError(f"isa must be one of {ISAS}")
    cross = _CROSS[isa]
    tools = [cross + t for t in ("as", "ld", "objcopy")]
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        raise AssemblerMissing(f"{missing[0]} not found: install binutils-aarch64-linux-gnu and "
                               "binutils-arm-linux-gnueabihf (scripts/setup.sh does)")
    with tempfile.TemporaryDirectory(prefix="xenhvc-asm-") as tmp:
        d = Path(tmp)
        (d / "g.S").write_text(_source(isa, body))
        (d / "g.ld").write_text(_LINKER_SCRIPT)
        as_flags = [] if isa == "a64" else ["-march=armv7ve"]
        _run([tools[0], *as_flags, "-o", str(d / "g.o"), str(d / "g.S")])
        _run([tools[1], "-nostdlib", "-static", "-T", str(d / "g.ld"), "-o", str(d / "g.elf"), str(d / "g.o")])
        _run([tools[2], "-O", "binary", str(d / "g.elf"), str(d / "g.bin")])
        return (d / "g.bin").read_bytes()


def _run(cmd: list[str]) -> None:
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise ValueError(f"{Path(cmd[0]).name} failed:\n{proc.stderr.strip()}")
