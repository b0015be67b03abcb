"""vm_assist, physdev_op, xsm_op, hvm_op, vcpu_op, multicall, platform_op, sysctl, domctl."""
import struct

import pytest

from xenhvc.abi.errno import Errno
from xenhvc.abi.hypercalls import Hypercall as H

from tests.conftest import Model


def test_vm_assist(dom0):
    assert dom0.call(H.vm_assist, 0, 5) == 0 and dom0.xen.domain.vm_assist == 1 << 5
    assert dom0.call(H.vm_assist, 1, 5) == 0 and dom0.xen.domain.vm_assist == 0
    assert dom0.call(H.vm_assist, 2, 5) == -Errno.ENOSYS
    for vtype in (0, 4, 6, 63, 64, 2**32 - 1):
        assert dom0.call(H.vm_assist, 0, vtype) == -Errno.EINVAL


@pytest.mark.parametrize("nr,args", [(H.physdev_op, (0, 0)), (H.physdev_op, (25, 1)), (H.xsm_op, (0,))])
def test_enosys_families(dom0, nr, args):
    assert dom0.call(nr, *args) == -Errno.ENOSYS


HVM = struct.Struct("<HxxIQ")


def test_hvm_get_and_set_param(dom0, domu):
    dom0.put(dom0.buf, HVM.pack(0x7FF0, 0, 0))
    assert dom0.call(H.hvm_op, 1, dom0.buf) == 0
    assert HVM.unpack(dom0.get(dom0.buf, 16))[2] == 0x0200000000000210  # PPI 16, active-low level
    for index, rc in ((2, 0), (17, 0), (28, -Errno.EPERM), (3, -Errno.EINVAL), (39, -Errno.EINVAL)):
        dom0.put(dom0.buf, HVM.pack(0x7FF0, index, 0))
        assert dom0.call(H.hvm_op, 1, dom0.buf) == rc, index
    dom0.put(dom0.buf, HVM.pack(0, 17, 5))
    assert dom0.call(H.hvm_op, 0, dom0.buf) == -Errno.EPERM  # own params are toolstack-only
    dom0.put(dom0.buf, HVM.pack(9, 17, 5))
    assert dom0.call(H.hvm_op, 0, dom0.buf) == -Errno.ESRCH
    assert dom0.call(H.hvm_op, 1, 1) == -Errno.EFAULT
    assert dom0.call(H.hvm_op, 24, 0) == 0 and dom0.call(H.hvm_op, 24, 8) == -Errno.EINVAL
    assert dom0.call(H.hvm_op, 2, 0) == -Errno.ENOSYS
    domu.put(domu.buf, HVM.pack(0, 2, 0))  # dom0 is another domain: XSM_TARGET refuses
    assert domu.call(H.hvm_op, 1, domu.buf) == -Errno.EPERM
    domu.put(domu.buf, HVM.pack(9, 2, 0))
    assert domu.call(H.hvm_op, 1, domu.buf) == -Errno.ESRCH


def test_vcpu_op(dom0):
    assert dom0.call(H.vcpu_op, 1, 999, 0) == -Errno.ENOENT
    for cmd in (0, 1, 2, 3, 4, 6, 7, 8, 9, 11, 12, 13, 14, 15, 99):
        assert dom0.call(H.vcpu_op, cmd, 0, dom0.buf) == -Errno.EINVAL, cmd
    info = struct.Struct("<QII")
    gfn = dom0.mem.base >> 12
    dom0.put(dom0.buf, info.pack(gfn, 4096 - 40, 0))
    assert dom0.call(H.vcpu_op, 10, 0, dom0.buf) == -Errno.ENXIO
    dom0.put(dom0.buf, info.pack(gfn, 4, 0))
    assert dom0.call(H.vcpu_op, 10, 0, dom0.buf) == -Errno.ENXIO
    dom0.put(dom0.buf, info.pack(0x10, 0, 0))
    assert dom0.call(H.vcpu_op, 10, 0, dom0.buf) == -Errno.EINVAL  # not RAM
    dom0.put(dom0.mem.base + 64, b"\xff" * 48)
    dom0.put(dom0.buf, info.pack(gfn, 64, 0))
    assert dom0.call(H.vcpu_op, 10, 0, dom0.buf) == 0
    # map_vcpu_info: the old contents, then evtchn_pending_sel = ~0 and evtchn_upcall_pending = 1
    assert dom0.get(dom0.mem.base + 64, 48) == b"\x01" + bytes(7) + b"\xff" * 8 + bytes(32)
    assert dom0.call(H.vcpu_op, 10, 0, dom0.buf) == -Errno.EINVAL  # only once
    assert dom0.call(H.vcpu_op, 10, 0, 1) == -Errno.EFAULT
    dom0.put(dom0.buf, struct.pack("<Q", 1))
    assert dom0.call(H.vcpu_op, 5, 0, dom0.buf) == 0  # a bad runstate area is not checked


MC = struct.Struct("<QQ6Q")


def test_multicall(dom0):
    calls = [MC.pack(17, 0, 0, 0, 0, 0, 0, 0), MC.pack(99, 7, 0, 0, 0, 0, 0, 0), MC.pack(13, 0, 0, 0, 0, 0, 0, 0),
             MC.pack(17, 0, 7, 1, 0, 0, 0, 0), MC.pack(2**40, 0, 0, 0, 0, 0, 0, 0)]
    dom0.put(dom0.buf, b"".join(calls))
    assert dom0.call(H.multicall, dom0.buf, len(calls)) == 0
    results = [struct.unpack_from("<q", dom0.get(dom0.buf + 64 * i + 8, 8))[0] for i in range(len(calls))]
    assert results == [0x40011, -Errno.ENOSYS, -Errno.EINVAL, -Errno.EINVAL, -Errno.ENOSYS]
    assert dom0.call(H.multicall, 1, 1) == -Errno.EFAULT
    assert dom0.call(H.multicall, 1, 0) == 0


def test_multicall_debug_build_scribbles_entries():
    m = Model(0, debug=True)
    m.put(m.buf, MC.pack(17, 0, 0, 0, 0, 0, 0, 0))
    assert m.call(H.multicall, m.buf, 1) == 0
    raw = m.get(m.buf, 64)
    assert raw[:8] == b"\xaa" * 8 and struct.unpack_from("<q", raw, 8)[0] == 0x40011 and raw[16:] == b"\xaa" * 48


def test_multicall_32bit_dirty_args_crash_the_domain(dom0_32):
    dom0_32.put(dom0_32.buf, MC.pack(17, 5, 1 << 32, 0, 0, 0, 0, 0))
    assert dom0_32.call(H.multicall, dom0_32.buf, 1) == 0
    assert dom0_32.xen.domain.shutdown_reason == 3
    assert struct.unpack_from("<q", dom0_32.get(dom0_32.buf + 8, 8))[0] == 5


@pytest.mark.parametrize("nr,size,version", [(H.platform_op, 136, 0x03000001), (H.sysctl, 136, 0x15),
                                             (H.domctl, 144, 0x15)])
def test_control_interfaces(dom0, domu, nr, size, version):
    assert dom0.call(nr, 1) == -Errno.EFAULT
    end = dom0.mem.base + len(dom0.mem.ram)
    dom0.put(end - size + 8, struct.pack("<II", 99, version))
    assert dom0.call(nr, end - size + 8) == -Errno.EFAULT  # the whole struct is copied
    dom0.put(dom0.buf, struct.pack("<II", 99, version + 1).ljust(size, b"\0"))
    assert dom0.call(nr, dom0.buf) == -Errno.EACCES
    domu.put(domu.buf, struct.pack("<IIH", 99, version, 1).ljust(size, b"\0"))
    assert domu.call(nr, domu.buf) == -Errno.EPERM


def test_platform_settime64(dom0):
    dom0.put(dom0.buf, struct.pack("<IIIIQQ", 62, 0x03000001, 0, 5, 1000, 7).ljust(136, b"\0"))
    assert dom0.call(H.platform_op, dom0.buf) == 0 and dom0.xen.domain.wallclock == (1000, 5, 7)
    dom0.put(dom0.buf, struct.pack("<IIIIQQ", 62, 0x03000001, 1, 5, 1000, 7).ljust(136, b"\0"))
    assert dom0.call(H.platform_op, dom0.buf) == -Errno.EINVAL


def test_domctl_getdomaininfo(dom0):
    dom0.put(dom0.buf, struct.pack("<IIH", 5, 0x15, 0).ljust(144, b"\0"))
    assert dom0.call(H.domctl, dom0.buf) == 0
    # running, HVM, HAP, and shutdown_code (SHUTDOWN_CODE_INVALID, ~0u, until latched) in bits 16-31
    assert struct.unpack_from("<HHI", dom0.get(dom0.buf + 16, 8)) == (0, 0, 0xFFFF0122)
    dom0.put(dom0.buf, struct.pack("<IIH", 5, 0x15, 0x7FF5).ljust(144, b"\0"))
    assert dom0.call(H.domctl, dom0.buf) == -Errno.EINVAL
    dom0.put(dom0.buf, struct.pack("<IIH", 3, 0x15, 7).ljust(144, b"\0"))
    assert dom0.call(H.domctl, dom0.buf) == -Errno.ESRCH


def test_sysctl_sched_id(dom0):
    """Found by the conformance suite: real Xen answers XEN_SYSCTL_sched_id with credit2 (6)."""
    dom0.put(dom0.buf, struct.pack("<II", 4, 0x15).ljust(136, b"\0"))
    assert dom0.call(H.sysctl, dom0.buf) == 0
    assert struct.unpack_from("<I", dom0.get(dom0.buf + 8, 4))[0] == 6


def test_domu_domctl_on_dom0_is_eperm(domu):
    """Found by the conformance suite: a domU sees a dom0 (the oracle's has one), so a domctl on
    domain 0 fails XSM (-EPERM), not the lookup (-ESRCH)."""
    domu.put(domu.buf, struct.pack("<IIH", 9999, 0x15, 0).ljust(144, b"\0"))
    assert domu.call(H.domctl, domu.buf) == -Errno.EPERM
    domu.put(domu.buf, struct.pack("<IIH", 9999, 0x15, 7).ljust(144, b"\0"))
    assert domu.call(H.domctl, domu.buf) == -Errno.ESRCH
