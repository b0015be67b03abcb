"""sysctl XEN_SYSCTL_physinfo and domctl XEN_DOMCTL_getdomaininfo, field by field, as Xen 4.17.7
answers them on the oracle (guests/conformance/t13_physinfo.c)."""
import struct
from dataclasses import replace

from xenhvc.abi.errno import Errno
from xenhvc.abi.hypercalls import Hypercall as H
from xenhvc.abi.sched import SchedOp
from xenhvc.hypervisor.build import ORACLE_HOST

PHYSINFO = struct.Struct("<10I5Q32s")
GETDOMAININFO = struct.Struct("<HHI7QIII16sIB7sB1xHII4s")


def _physinfo(model, fill=b"\xa5"):
    model.put(model.buf, struct.pack("<II", 3, 0x15) + fill * 136)
    rc = model.call(H.sysctl, model.buf)
    return rc, model.get(model.buf, 144)


def test_physinfo_fields(dom0):
    rc, raw = _physinfo(dom0)
    assert rc == 0
    assert struct.unpack_from("<II", raw) == (3, 0x15)
    (tpc, cps, nr_cpus, max_cpu_id, nr_nodes, max_node_id, cpu_khz, caps, arch_caps, pad,
     total, free, scrub, outstanding, max_mfn, hw_cap) = PHYSINFO.unpack_from(raw, 8)
    assert (tpc, cps, nr_cpus, max_cpu_id, nr_nodes, max_node_id) == (1, 1, 1, 0, 1, 0)
    assert cpu_khz == 62500
    assert caps == 0x189  # hvm | hap | vpmu | gnttab_v1
    assert (arch_caps, pad, scrub, outstanding) == (0, 0, 0, 0)
    assert total == 0x40000 and max_mfn == 0x7FFFF
    assert 0 < free <= total
    assert hw_cap == bytes(32)


def test_physinfo_keeps_the_rest_of_the_union(dom0):
    _, raw = _physinfo(dom0)
    assert raw[8 + 112:136] == b"\xa5" * 16  # only the 112 bytes of physinfo are zeroed
    assert raw[136:144] == b"\xa5" * 8  # nothing past struct xen_sysctl is written


def test_physinfo_follows_the_host(dom0):
    dom0.xen.ctx.build = replace(dom0.xen.ctx.build, host=replace(ORACLE_HOST, nr_cpus=4, vpmu=False, cpu_khz=1000))
    _, raw = _physinfo(dom0)
    fields = PHYSINFO.unpack_from(raw, 8)
    assert fields[2:4] == (4, 3) and fields[6:8] == (1000, 0x109)


def test_physinfo_domu_and_errors(dom0, domu):
    rc, raw = _physinfo(domu)
    assert rc == -Errno.EPERM and raw[8:16] == b"\xa5" * 8
    dom0.put(dom0.buf, struct.pack("<II", 3, 0x14).ljust(136, b"\0"))
    assert dom0.call(H.sysctl, dom0.buf) == -Errno.EACCES
    assert dom0.call(H.sysctl, 1) == -Errno.EFAULT


def _getdomaininfo(model, domid=0):
    model.put(model.buf, struct.pack("<IIH", 5, 0x15, domid) + b"\xa5" * 142)
    rc = model.call(H.domctl, model.buf)
    return rc, model.get(model.buf, 152)


def test_getdomaininfo_fields(dom0):
    rc, raw = _getdomaininfo(dom0)
    assert rc == 0
    assert struct.unpack_from("<IIH", raw) == (5, 0x15, 0)
    assert raw[10:16] == b"\xa5" * 6  # the header's pad is left alone
    (domain, pad1, flags, tot, max_pages, outstanding, shr, paged, shared_info_frame, cpu_time, online,
     max_vcpu_id, ssidref, handle, cpupool, gpaddr_bits, pad2, gic_version, tee_type, nr_spis, clock_frequency,
     tail) = GETDOMAININFO.unpack_from(raw, 16)
    # SHUTDOWN_CODE_INVALID (~0u) << 16 | HAP | running | HVM
    assert (domain, pad1, flags) == (0, 0, 0xFFFF0122)
    assert tot == max_pages and (outstanding, shr, paged) == (0, 0, 0)
    assert shared_info_frame == 0x7FFDD
    assert (online, max_vcpu_id, ssidref, handle, cpupool) == (1, 0, 0, bytes(16), 0)
    assert gpaddr_bits == 44 and pad2 == bytes(7)
    assert (gic_version, tee_type, nr_spis, clock_frequency) == (0, 0, 0, 0)  # arch_config stays zero
    assert tail == bytes(4)  # the struct's tail padding is zeroed too
    assert raw[136:152] == b"\xa5" * 16  # the rest of the union and beyond: untouched


def test_getdomaininfo_latched_shutdown_code(dom0):
    for reason, bits in ((0xFF, 0xFF0000), (2, 0x20000)):
        dom0.xen.domain.shutdown_code = 0xFFFFFFFF
        dom0.put(dom0.buf + 0x400, struct.pack("<I", reason))
        assert dom0.call(H.sched_op, SchedOp.SCHEDOP_shutdown_code, dom0.buf + 0x400) == 0
        _, raw = _getdomaininfo(dom0)
        assert struct.unpack_from("<I", raw, 20)[0] == bits | 0x122
    # 255 is a code like any other: it latches, a later one does not replace it
    dom0.xen.domain.shutdown_code = 0xFFFFFFFF
    for reason in (0xFF, 2):
        dom0.put(dom0.buf + 0x400, struct.pack("<I", reason))
        dom0.call(H.sched_op, SchedOp.SCHEDOP_shutdown_code, dom0.buf + 0x400)
    assert dom0.xen.domain.shutdown_code == 0xFF


def test_getdomaininfo_domu_refused(domu):
    rc, raw = _getdomaininfo(domu)
    assert rc == -Errno.EPERM and raw[16:24] == b"\xa5" * 8
