"""The privcmd path: every arity through the guest-side privcmd_call on the model, real calls with
bounce buffers, and the real /dev/xen/privcmd where there is one."""
from __future__ import annotations

import errno
import os
import shutil
import struct

import pytest

from xenhvc.abi.hypercalls import Hypercall as H
from xenhvc.toolstack import Privcmd, xencall0, xencall1, xencall2, xencall3, xencall4, xencall5

ISAS = ["a64", "a32", "t32"]
CALLS = [xencall0, xencall1, xencall2, xencall3, xencall4, xencall5]
ARGS = (0x1111, 0x2222, 0x3333, 0x4444, 0x5555)


@pytest.fixture(scope="module", params=ISAS)
def xc(request):
    if shutil.which("aarch64-linux-gnu-as") is None or shutil.which("arm-linux-gnueabihf-as") is None:
        pytest.skip("cross binutils not installed")
    with Privcmd.emulated(request.param) as h:
        yield h


@pytest.mark.parametrize("arity", range(6))
def test_every_arity_reaches_xen_in_abi_order(xc, arity):
    """Number 99 is outside the table: the model traces all five argument registers as the guest
    left them, so the trace shows exactly what privcmd_call delivered."""
    with pytest.raises(OSError) as e:
        CALLS[arity](xc, 99, *ARGS[:arity])
    assert e.value.errno == errno.ENOSYS
    rec = xc.backend.trace[-1]
    assert rec.name == "hypercall_99"
    assert rec.args[:arity] == ARGS[:arity]
    assert all(a == 0 for a in rec.args[arity:])


def test_method_and_function_forms_agree(xc):
    assert xc.xencall2(H.xen_version, 0, 0) == xencall2(xc, H.xen_version, 0, 0) == 0x40011
    assert xc.hypercall(H.xen_version, 0, 0) == 0x40011


def test_hvc_comes_from_the_generated_privcmd_call(xc):
    xc.hypercall(H.xen_version, 0, 0)
    # the kernel's own loop never makes a hypercall: every HVC is privcmd_call's
    assert {r.pc for r in xc.backend.trace} == {xc.backend.trace[-1].pc}


def test_bounce_buffers_in_and_out(xc):
    before = len(xc.backend.console)
    with xc.bounce(b"hello from the toolstack\n") as buf:
        assert xc.xencall3(H.console_io, 0, 25, buf.addr) == 0
    assert bytes(xc.backend.console[before:]) == b"hello from the toolstack\n"
    with xc.bounce(size=16) as buf:
        assert xc.xencall2(H.xen_version, 1, buf.addr) == 0  # XENVER_extraversion
        assert buf.read(3) == b".7\0"


def test_five_arguments_for_real_hypfs_read(xc):
    path = b"/buildinfo/version/minor\0"
    with xc.bounce(path) as p, xc.bounce(size=64) as out:
        assert xc.xencall5(H.hypfs_op, 1, p.addr, len(path), out.addr, 64) == 0
        assert struct.unpack_from("<BBHII", out.read(16)) == (3, 0, 0, 4, 0)
        assert out.read(4, 12) == struct.pack("<I", 17)


def test_errors_and_truncation(xc):
    with pytest.raises(OSError) as e:
        xc.hypercall(H.xen_version, 0x7777, 0)  # an unknown sub-op
    assert e.value.errno in (errno.ENOSYS, errno.EINVAL, errno.EPERM)
    with pytest.raises(TypeError):
        xc.hypercall(99, 1, 2, 3, 4, 5, 6)
    with pytest.raises(OSError):
        xc.hypercall(99, 1, 2, 3, 2**32 + 4, 2**63 + 5)
    got = xc.backend.trace[-1].args[3:5]
    # an AArch32 kernel passes unsigned long: the low 32 bits, as Linux's privcmd does
    assert got == ((4, 5) if xc.backend.isa != "a64" else (2**32 + 4, 2**63 + 5))


def test_buffers_are_reused_and_bounded(xc):
    addrs = set()
    for _ in range(3):
        with xc.bounce(size=4096) as b:
            addrs.add(b.addr)
    assert len(addrs) == 1
    with pytest.raises(MemoryError):
        xc.alloc_buffer(1 << 20)


def test_shutdown_ends_the_emulated_domain():
    with Privcmd.emulated("a64") as h:
        with h.bounce(struct.pack("<I", 0)) as reason:
            assert h.xencall2(H.sched_op, 2, reason.addr) == 0  # SCHEDOP_shutdown poweroff
        with pytest.raises(Exception, match="gone"):
            h.xencall2(H.xen_version, 0, 0)


@pytest.mark.skipif(not os.path.exists("/dev/xen/privcmd"),
                    reason="no /dev/xen/privcmd: not running in a Xen domain with the privcmd driver")
def test_real_device():
    with Privcmd.open() as h:
        version = h.xencall2(H.xen_version, 0, 0)
        assert version >> 16 >= 4
        with h.bounce(size=16) as buf:
            assert h.xencall2(H.xen_version, 1, buf.addr) == 0
