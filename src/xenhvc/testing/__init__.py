"""Helpers for writing guest tests: assemble a snippet of A64, A32 or T32 code into a bootable
Image/zImage with Debian's cross binutils, run it, look at what happened.

    from xenhvc.testing import assemble_guest, run_guest
    image = assemble_guest("a64", '''
        mov x0, #0
        mov x1, #0
        xen_hypercall __HYPERVISOR_xen_version
        poweroff
    ''')
    result = run_guest(image)
"""
from .asm import ISAS, AssemblerMissing, assemble_guest, hypercall_prelude
from .run import run_guest

__all__ = ["assemble_guest", "run_guest", "hypercall_prelude", "ISAS", "AssemblerMissing"]
