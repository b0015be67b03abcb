"""event_channel_op: every sub-op and its errors, 2-level pending semantics, FIFO ops, SCHEDOP_poll."""
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xenhvc.abi.errno import Errno
from xenhvc.abi.hypercalls import Hypercall as H
from xenhvc.hypervisor.shared_info import upcall_pending

from tests.conftest import Model

SELF = 0x7FF0


def op(m, cmd, data: bytes, addr=None):
    addr = m.buf if addr is None else addr
    m.put(addr, data.ljust(24, b"\0"))
    return m.call(H.event_channel_op, cmd, addr)


def alloc(m, dom=SELF, remote=SELF):
    assert op(m, 6, struct.pack("<HHI", dom, remote, 0)) == 0
    return struct.unpack_from("<I", m.get(m.buf, 8), 4)[0]


def status(m, port, dom=SELF):
    rc = op(m, 5, struct.pack("<H2xI", dom, port))
    return (rc,) + struct.unpack_from("<IIHH", m.get(m.buf, 24), 8) if rc == 0 else (rc,)


def port_op(m, cmd, port):
    return op(m, cmd, struct.pack("<I", port))


def pending_bit(m, port):
    return bool(m.xen.domain.shared_info.page[48 + port // 8] >> (port % 8) & 1)


def test_alloc_unbound_status_close(dom0):
    port = alloc(dom0)
    assert port == 1 and dom0.xen.trace[-1].notes == ("port=1",)
    assert status(dom0, port) == (0, 1, 0, 0, 0)  # unbound, vcpu 0, remote dom 0
    assert alloc(dom0, 0, 0) == 2
    assert port_op(dom0, 3, 1) == 0 and status(dom0, 1)[:2] == (0, 0)
    assert alloc(dom0) == 1  # the lowest free port is reused
    assert port_op(dom0, 3, 1) == 0 and port_op(dom0, 3, 1) == -Errno.EINVAL


def test_alloc_unbound_errors(domu):
    assert op(domu, 6, struct.pack("<HHI", 5, SELF, 0)) == -Errno.ESRCH
    assert op(domu, 6, struct.pack("<HHI", SELF, 9, 0)) == -Errno.ESRCH  # SILO looks the remote up
    assert domu.xen.domain.evtchn.active_evtchns == 0
    assert op(domu, 6, struct.pack("<HHI", 0, SELF, 0)) == -Errno.EPERM  # dom0's table: XSM_TARGET
    assert alloc(domu, 1, 1) == 1
    assert alloc(domu, SELF, 0) == 2 and status(domu, 2) == (0, 1, 0, 0, 0)  # SILO: dom0 is the control domain
    assert op(domu, 0, struct.pack("<H2xII", 0, 1, 0)) == -Errno.EINVAL  # dom0 has no port for us
    assert status(domu, 1, dom=0) == (-Errno.EPERM,) and status(domu, 64, dom=0) == (-Errno.EINVAL,)
    assert op(domu, 10, struct.pack("<H", 0)) == -Errno.EPERM


def test_domu_runs_out_of_ports_at_1023(domu):
    for expect in range(1, 1024):
        assert alloc(domu) == expect
    assert op(domu, 6, struct.pack("<HHI", SELF, SELF, 0)) == -Errno.ENOSPC
    assert domu.xen.domain.evtchn.valid_evtchns == 1024


def test_dom0_runs_out_at_4096_and_buckets_grow(dom0):
    ev = None
    for expect in range(1, 4096):
        assert alloc(dom0) == expect
        ev = dom0.xen.domain.evtchn
        assert ev.valid_evtchns == (expect // 64 + 1) * 64
    assert op(dom0, 6, struct.pack("<HHI", SELF, SELF, 0)) == -Errno.ENOSPC


def test_bind_interdomain_loopback_sets_pending(dom0):
    remote = alloc(dom0)
    assert op(dom0, 0, struct.pack("<H2xII", SELF, remote, 0)) == 0
    local = struct.unpack_from("<I", dom0.get(dom0.buf, 12), 8)[0]
    assert local == 2 and pending_bit(dom0, local)
    assert upcall_pending(dom0.xen.domain, dom0.mem)
    assert status(dom0, local) == (0, 2, 0, 0, 0) and struct.unpack_from("<I", dom0.get(dom0.buf, 24), 20)[0] == 1
    assert status(dom0, remote)[1] == 2
    dom0.xen.domain.shared_info.page[:4096] = bytes(4096)
    assert port_op(dom0, 4, local) == 0 and pending_bit(dom0, remote) and not pending_bit(dom0, local)
    assert port_op(dom0, 3, local) == 0 and status(dom0, remote)[:2] == (0, 1)
    assert op(dom0, 0, struct.pack("<H2xII", SELF, local, 0)) == -Errno.EINVAL  # now free
    assert op(dom0, 0, struct.pack("<H2xII", 9, remote, 0)) == -Errno.ESRCH
    assert op(dom0, 0, struct.pack("<H2xII", SELF, 5000, 0)) == -Errno.EINVAL


def test_bind_interdomain_needs_port_reserved_for_this_domain(domu):
    assert op(domu, 6, struct.pack("<HHI", SELF, SELF, 0)) == 0
    assert op(domu, 0, struct.pack("<H2xII", SELF, 1, 0)) == 0
    assert op(domu, 0, struct.pack("<H2xII", SELF, 0, 0)) == -Errno.EINVAL  # reserved port 0


def test_bind_virq(dom0):
    assert op(dom0, 1, struct.pack("<III", 0, 0, 0)) == 0
    port = struct.unpack_from("<I", dom0.get(dom0.buf, 12), 8)[0]
    assert status(dom0, port) == (0, 4, 0, 0, 0)
    assert op(dom0, 1, struct.pack("<III", 0, 0, 0)) == -Errno.EEXIST
    assert op(dom0, 1, struct.pack("<III", 24, 0, 0)) == -Errno.EINVAL
    assert op(dom0, 1, struct.pack("<III", 0xFFFFFFFF, 0, 0)) == -Errno.EINVAL
    assert op(dom0, 1, struct.pack("<III", 2, 1, 0)) == -Errno.EINVAL  # global VIRQ on vcpu 1
    assert op(dom0, 1, struct.pack("<III", 0, 7, 0)) == -Errno.ENOENT  # per-vCPU VIRQ, no vcpu 7
    assert op(dom0, 1, struct.pack("<III", 5, 0, 0)) == 0  # unused numbers still bind (global)
    assert port_op(dom0, 4, port) == -Errno.EINVAL  # cannot send on a VIRQ
    assert op(dom0, 8, struct.pack("<II", port, 0)) == -Errno.EINVAL  # per-vCPU VIRQ
    assert port_op(dom0, 3, port) == 0
    assert op(dom0, 1, struct.pack("<III", 0, 0, 0)) == 0


def test_bind_ipi_send_unmask(dom0):
    assert op(dom0, 7, struct.pack("<II", 5, 0)) == -Errno.ENOENT
    assert op(dom0, 7, struct.pack("<II", 0, 0)) == 0
    port = struct.unpack_from("<I", dom0.get(dom0.buf, 8), 4)[0]
    assert status(dom0, port)[:3] == (0, 5, 0)
    d = dom0.xen.domain
    d.shared_info.page[560 + port // 8] |= 1 << port % 8  # the guest masks it
    assert port_op(dom0, 4, port) == 0 and pending_bit(dom0, port) and not upcall_pending(d, dom0.mem)
    assert port_op(dom0, 9, port) == 0 and upcall_pending(d, dom0.mem) and d.evtchn_irq_raised == 1
    assert struct.unpack_from("<Q", d.shared_info.page, 8)[0] == 1  # evtchn_pending_sel word 0
    assert op(dom0, 8, struct.pack("<II", port, 0)) == -Errno.EINVAL  # IPI cannot be rebound


def test_pending_goes_to_registered_vcpu_info(dom0):
    info = dom0.mem.base + 0x800
    dom0.put(dom0.buf, struct.pack("<QII", dom0.mem.base >> 12, 0x800, 0))
    assert dom0.call(H.vcpu_op, 10, 0, dom0.buf) == 0
    dom0.put(info, bytes(48))
    assert op(dom0, 7, struct.pack("<II", 0, 0)) == 0
    assert port_op(dom0, 4, 1) == 0
    assert dom0.get(info, 1) == b"\x01" and struct.unpack("<Q", dom0.get(info + 8, 8))[0] == 1
    assert dom0.xen.domain.shared_info.page[0] == 0


def test_bind_pirq(dom0):
    assert op(dom0, 2, struct.pack("<III", 1024, 0, 0)) == -Errno.EINVAL
    assert op(dom0, 2, struct.pack("<III", 33, 0, 0)) == 0
    port = struct.unpack_from("<I", dom0.get(dom0.buf, 12), 8)[0]
    assert op(dom0, 2, struct.pack("<III", 33, 0, 0)) == -Errno.EEXIST
    assert status(dom0, port)[:2] == (0, 3) and struct.unpack_from("<I", dom0.get(dom0.buf, 24), 16)[0] == 33
    assert op(dom0, 8, struct.pack("<II", port, 0)) == 0
    assert port_op(dom0, 4, port) == -Errno.EINVAL
    assert port_op(dom0, 3, port) == 0 and op(dom0, 2, struct.pack("<III", 33, 0, 0)) == 0


@pytest.mark.parametrize("cmd", [3, 4, 9])
def test_bad_ports(dom0, cmd):
    expected = {3: [-Errno.EINVAL] * 4, 4: [-Errno.EINVAL] * 4, 9: [0, 0, -Errno.EINVAL, -Errno.EINVAL]}[cmd]
    assert [port_op(dom0, cmd, p) for p in (0, 63, 64, 100000)] == expected
    assert status(dom0, 0)[:3] == (0, 0, 0) and status(dom0, 64) == (-Errno.EINVAL,)
    assert status(dom0, 1, dom=7) == (-Errno.ESRCH,)


def test_send_unbound_is_dropped(dom0):
    port = alloc(dom0)
    assert port_op(dom0, 4, port) == 0 and not pending_bit(dom0, port)
    assert op(dom0, 8, struct.pack("<II", port, 0)) == 0
    assert op(dom0, 8, struct.pack("<II", port, 1)) == -Errno.ENOENT
    assert op(dom0, 8, struct.pack("<II", 99, 0)) == -Errno.EINVAL


def test_reset(dom0):
    for _ in range(70):
        alloc(dom0)
    assert op(dom0, 10, struct.pack("<H", 9)) == -Errno.ESRCH
    assert op(dom0, 14, struct.pack("<H", SELF)) == -Errno.EBUSY  # nothing to continue
    assert op(dom0, 10, struct.pack("<H", SELF)) == 0
    assert dom0.xen.domain.evtchn.active_evtchns == 0 and alloc(dom0) == 1


def test_fifo_ops_without_fifo(dom0):
    assert op(dom0, 13, struct.pack("<II", 1, 3)) == -Errno.ENOSYS  # 2-level ABI
    assert op(dom0, 13, struct.pack("<II", 64, 3)) == -Errno.EINVAL
    assert op(dom0, 12, struct.pack("<Q", dom0.mem.base >> 12)) == -Errno.EOPNOTSUPP


def test_init_control_and_fifo_delivery(dom0):
    gfn = dom0.mem.base >> 12
    bad = [((gfn, 0, 1), -Errno.ENOENT), ((gfn, 4096 - 71, 0), -Errno.EINVAL), ((gfn, 4, 0), -Errno.EINVAL),
           ((0x10, 0, 0), -Errno.EINVAL)]
    for args, rc in bad:
        assert op(dom0, 11, struct.pack("<QII", *args)) == rc
        assert dom0.get(dom0.buf + 16, 1) == b"\0"
    assert op(dom0, 11, struct.pack("<QII", gfn + 8, 0, 0)) == 0
    assert dom0.get(dom0.buf + 16, 1) == b"\x11"
    assert op(dom0, 11, struct.pack("<QII", gfn + 8, 0, 0)) == -Errno.EINVAL  # already set up
    assert op(dom0, 7, struct.pack("<II", 0, 0)) == 0
    assert op(dom0, 13, struct.pack("<II", 1, 16)) == -Errno.EINVAL
    assert op(dom0, 13, struct.pack("<II", 2, 3)) == -Errno.EACCES  # free port
    assert op(dom0, 13, struct.pack("<II", 1, 3)) == 0
    assert port_op(dom0, 4, 1) == 0 and dom0.xen.domain.evtchn.channels[1].pending  # no event array yet
    assert op(dom0, 12, struct.pack("<Q", gfn + 9)) == 0  # the pending event is re-raised
    ctl, word = dom0.mem.base + 0x8000, dom0.mem.base + 0x9000
    assert struct.unpack("<I", dom0.get(word + 4, 4))[0] >> 29 == 0b101  # PENDING | LINKED
    assert struct.unpack("<I", dom0.get(ctl, 4))[0] == 1 << 3  # READY for priority 3
    assert struct.unpack("<I", dom0.get(ctl + 8 + 12, 4))[0] == 1  # HEAD[3] = port 1
    assert upcall_pending(dom0.xen.domain, dom0.mem)
    assert alloc(dom0) == 2
    assert op(dom0, 10, struct.pack("<H", SELF)) == 0 and dom0.xen.domain.evtchn.fifo is None


def test_bad_pointers_and_unknown(dom0):
    for cmd in range(15):
        assert dom0.call(H.event_channel_op, cmd, 1) == -Errno.EFAULT, cmd
    for cmd in (15, 99, 2**32 - 1):
        assert dom0.call(H.event_channel_op, cmd, dom0.buf) == -Errno.ENOSYS


def test_poll_sees_pending_ports(dom0):
    port = alloc(dom0)
    dom0.put(dom0.buf + 64, struct.pack("<I", port))
    dom0.put(dom0.buf + 128, struct.pack("<QI4xQ", dom0.buf + 64, 1, 0))
    assert dom0.call(H.sched_op, 3, dom0.buf + 128) == 0 and dom0.xen.domain.blocked
    dom0.xen.domain.blocked = False
    dom0.xen.domain.shared_info.page[48] |= 1 << port
    assert dom0.call(H.sched_op, 3, dom0.buf + 128) == 0 and not dom0.xen.domain.blocked
    dom0.put(dom0.buf + 64, struct.pack("<I", 64))
    assert dom0.call(H.sched_op, 3, dom0.buf + 128) == -Errno.EINVAL


@settings(max_examples=300, deadline=None)
@given(cmds=st.lists(st.tuples(st.integers(0, 16), st.binary(min_size=24, max_size=24)), max_size=8),
       domid=st.sampled_from([0, 1]))
def test_random_event_channel_ops_never_raise(cmds, domid):
    m = Model(domid)
    for cmd, data in cmds:
        rc = op(m, cmd, data)
        assert rc == 0 or -rc in Errno._value2member_map_
