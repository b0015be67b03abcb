"""Debian's own kernels, when bench/scan_vs_objdump.py --fetch has put them in .cache/kernels
(never committed): the scan finds Linux's Xen hypercall stubs (arch/arm{,64}/xen/hypercall.S)."""
import glob
from pathlib import Path

import pytest

from xenhvc.scan import scan_file

ROOT = Path(__file__).resolve().parents[2]
STUBS = {"xen_version", "console_io", "grant_table_op", "sched_op", "event_channel_op", "hvm_op", "memory_op",
         "physdev_op", "vcpu_op", "platform_op", "multicall", "vm_assist", "dm_op"}


def _image(pattern):
    found = sorted(glob.glob(str(ROOT / ".cache" / "kernels" / "boot" / pattern)))
    if not found:
        pytest.skip(f"no {pattern} in .cache/kernels (bench/scan_vs_objdump.py --fetch)")
    return found[-1]


@pytest.mark.parametrize("pattern,isa", [("vmlinuz-*-arm64", "a64"), ("vmlinuz-*-armmp-lpae", "a32")])
def test_linux_stubs(pattern, isa):
    r = scan_file(_image(pattern))
    xen = [s for s in r.sites if s.kind == "xen"]
    assert {s.name for s in xen if s.number is not None} == STUBS
    assert all(s.isa == isa for s in xen)
    (privcmd,) = [s for s in xen if s.number is None]
    assert privcmd.number_source == ("x0" if isa == "a64" else "r0")
