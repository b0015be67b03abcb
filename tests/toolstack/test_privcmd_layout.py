"""struct privcmd_hypercall and IOCTL_PRIVCMD_HYPERCALL against Debian's linux-libc-dev
<xen/privcmd.h>: compiled and run on the host, and compiled for arm64 and arm32 with the cross gcc."""
from __future__ import annotations

import ctypes
import shutil
import subprocess
from pathlib import Path

import pytest

from xenhvc.toolstack import IOCTL_PRIVCMD_HYPERCALL, _IOC, privcmd_hypercall

HEADER = Path("/usr/include/xen/privcmd.h")


def need_header():
    if not HEADER.exists():
        pytest.skip("no <xen/privcmd.h>: install linux-libc-dev (scripts/setup.sh does)")


def interface_shim(d: Path) -> Path:
    """Debian's uapi <xen/privcmd.h> includes <xen/interface/xen.h>, a kernel-internal header that
    linux-libc-dev does not ship (user space brings its own, as libxencall does): the two types
    privcmd.h takes from it, as Xen's public headers define them on Arm. privcmd.h also expects its
    includer to have <stddef.h> (size_t) and the _IOC macros (<sys/ioctl.h> / <linux/ioctl.h>)."""
    (d / "xen" / "interface").mkdir(parents=True, exist_ok=True)
    (d / "xen" / "interface" / "xen.h").write_text(
        "#include <linux/types.h>\ntypedef __u16 domid_t;\ntypedef __u64 xen_pfn_t;\n")
    return d


def test_ioc_like_linux():
    assert IOCTL_PRIVCMD_HYPERCALL == 0x00305000
    assert _IOC(0, "P", 0, 48) == 0x00305000
    assert _IOC(0, "P", 6, 2) == 0x00025006  # IOCTL_PRIVCMD_RESTRICT (the reference's table)
    assert ctypes.sizeof(privcmd_hypercall) == 48
    assert privcmd_hypercall.op.offset == 0 and privcmd_hypercall.arg.offset == 8


def test_host_build_against_linux_libc_dev(tmp_path):
    need_header()
    if shutil.which("gcc") is None:
        pytest.skip("no host gcc")
    src = tmp_path / "p.c"
    src.write_text("""#include <stdio.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include <xen/privcmd.h>
int main(void)
{
    printf("%zu %zu %zu %zu %lu\\n", sizeof(struct privcmd_hypercall), offsetof(struct privcmd_hypercall, op),
           offsetof(struct privcmd_hypercall, arg), sizeof(((struct privcmd_hypercall *)0)->arg),
           (unsigned long)IOCTL_PRIVCMD_HYPERCALL);
    return 0;
}
""")
    shim = interface_shim(tmp_path / "shim")
    proc = subprocess.run(["gcc", "-idirafter", str(shim), "-o", str(tmp_path / "p"), str(src)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    out = subprocess.run([str(tmp_path / "p")], capture_output=True, text=True, check=True).stdout.split()
    assert [int(v) for v in out] == [ctypes.sizeof(privcmd_hypercall), privcmd_hypercall.op.offset,
                                     privcmd_hypercall.arg.offset, 5 * 8, IOCTL_PRIVCMD_HYPERCALL]


@pytest.mark.parametrize("gcc", ["aarch64-linux-gnu-gcc", "arm-linux-gnueabihf-gcc"])
def test_cross_build_against_linux_libc_dev(tmp_path, gcc):
    """The same header for the guest ABIs. Debian's cross gcc has no kernel headers of its own, so
    the arch-specific <asm/...> the uapi headers include are pointed at asm-generic (which is what
    arm and arm64 use); the checks are compile-time assertions with the Python values."""
    need_header()
    if shutil.which(gcc) is None:
        pytest.skip(f"{gcc} not installed")
    shim = tmp_path / "asm"
    shim.mkdir()
    for name in ("types.h", "ioctl.h", "bitsperlong.h", "posix_types.h", "byteorder.h"):
        (shim / name).write_text(f"#include <asm-generic/{name if name != 'byteorder.h' else 'types.h'}>\n")
    src = tmp_path / "p.c"
    src.write_text(f"""#include <stddef.h>
#include <linux/ioctl.h>
#include <xen/privcmd.h>
_Static_assert(sizeof(struct privcmd_hypercall) == {ctypes.sizeof(privcmd_hypercall)}, "size");
_Static_assert(__builtin_offsetof(struct privcmd_hypercall, op) == {privcmd_hypercall.op.offset}, "op");
_Static_assert(__builtin_offsetof(struct privcmd_hypercall, arg) == {privcmd_hypercall.arg.offset}, "arg");
_Static_assert(IOCTL_PRIVCMD_HYPERCALL == {IOCTL_PRIVCMD_HYPERCALL:#x}u, "ioctl");
""")
    interface_shim(tmp_path)
    proc = subprocess.run([gcc, "-I", str(tmp_path), "-idirafter", "/usr/include", "-fsyntax-only", str(src)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
