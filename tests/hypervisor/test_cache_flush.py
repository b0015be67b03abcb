"""GNTTABOP_cache_flush (grant_table_op 12) as Xen 4.17.7 answers it on Arm (gnttab_cache_flush /
_cache_flush in xen/common/grant_table.c; the dom0 and domU answers are the ones real Xen gives in
guests/conformance/t14_grants.c, grants.cache_flush)."""
import struct

import pytest

from xenhvc.abi.errno import Errno
from xenhvc.abi.hypercalls import Hypercall as H

from tests.conftest import Model

CF = struct.Struct("<QHHI")  # union {dev_bus_addr, ref} a; offset; length; op
CLEAN, INVAL, SOURCE_GREF = 1, 2, 1 << 31
CMD = 12
NOT_RAM = (0x10000, 0x08000000, 0x3FFFF000, 0x80000000, 1 << 40, (1 << 64) - 1)


def flush(m, *entries, cmd=CMD, count=None):
    """One grant_table_op(GNTTABOP_cache_flush) of ``entries`` (a, offset, length, op) at m.buf."""
    m.put(m.buf, b"".join(CF.pack(*e) for e in entries))
    return m.call(H.grant_table_op, cmd, m.buf, len(entries) if count is None else count)


def own(m, page=4):
    """dev_bus_addr of a page of the domain's RAM (its GPA; dom0 is direct-mapped)."""
    return m.mem.base + page * 4096


def warnings(m):
    return [line for line in m.log if "cache_flush" in line]


def test_linux_probe_answers_0(dom0, domu):
    # arch/arm/xen/mm.c xen_mm_init: {dev_bus_addr 0, offset 0, length 0, op 0}, count 1
    for m in (dom0, domu):
        assert flush(m, (0, 0, 0, 0)) == 0
        assert m.xen.trace[-1].args_text.endswith("{a=0, offset=0, length=0, op=0}, 1")
        # nothing to do is nothing to do, wherever it points
        assert flush(m, (1 << 40, 0, 0, CLEAN)) == 0 and flush(m, (1 << 40, 0, 8, 0)) == 0
        assert not warnings(m)


@pytest.mark.parametrize("offset, length, op", [
    (0, 8, 4),  # an op bit beyond CLEAN | INVAL
    (0, 8, SOURCE_GREF | CLEAN),  # refused with the other unknown bits: Xen's -EOPNOTSUPP is unreachable
    (0, 0, SOURCE_GREF),
    (4096, 0, CLEAN),  # offset must be inside the page
    (0, 4097, CLEAN),
    (4000, 200, CLEAN),  # offset + length beyond the page
    (0xFFFF, 0xFFFF, 0xFFFFFFFF),
])
def test_bad_arguments_are_einval(dom0, domu, offset, length, op):
    for m in (dom0, domu):
        assert flush(m, (own(m), offset, length, op)) == -Errno.EINVAL
        assert flush(m, (0, offset, length, op)) == -Errno.EINVAL  # checked before the address


def test_dom0_flushes_its_own_pages(dom0):
    m = dom0
    for op in (CLEAN, INVAL, CLEAN | INVAL):
        assert flush(m, (own(m), 0, 4096, op)) == 0
    assert flush(m, (own(m, 0), 4095, 1, CLEAN)) == 0
    assert flush(m, (own(m, 15) + 0x123, 0, 8, INVAL)) == 0  # the page of dev_bus_addr; its offset bits ignored
    # its shared_info page is its own too (the MFN getdomaininfo reports)
    assert flush(m, (m.xen.build.host.dom0_shared_info_mfn << 12, 0, 8, CLEAN)) == 0
    # a page dom0 gave back with decrease_reservation stays allocated to a direct-mapped domain
    gfn = own(m, 6) >> 12
    m.put(m.buf + 0x100, struct.pack("<Q", gfn))
    m.put(m.buf, struct.pack("<QQIIH6x", m.buf + 0x100, 1, 0, 0, 0x7FF0))
    assert m.call(H.memory_op, 1, m.buf) == 1
    assert flush(m, (gfn << 12, 0, 8, CLEAN)) == 0
    assert not warnings(m)


def test_dom0_addresses_it_does_not_own(dom0):
    m = dom0
    for addr in NOT_RAM:  # !mfn_valid: outside the host's RAM (0x40000000-0x80000000)
        assert flush(m, (addr, 0, 8, CLEAN)) == -Errno.EINVAL, hex(addr)
    for addr in (own(m, 16), 0x60000000, 0x7FFFF000):  # host RAM no domain owns (free, Xen's)
        assert flush(m, (addr, 0, 8, CLEAN)) == -Errno.EPERM, hex(addr)
    assert not warnings(m)


def test_domu_addresses(domu):
    m = domu
    for addr in NOT_RAM:
        assert flush(m, (addr, 0, 8, CLEAN)) == -Errno.EINVAL, hex(addr)
    # the observer dom0's bank: another domain's page, and no grant of it mapped by the domU
    assert flush(m, (0x70000000, 0, 8, CLEAN)) == -Errno.EINVAL
    assert flush(m, (0x77FFF000, 0, 4096, CLEAN | INVAL)) == -Errno.EINVAL
    assert not warnings(m)
    # its GPA as a machine address: which domain owns that frame is not modelled
    assert flush(m, (own(m), 0, 8, CLEAN)) == -Errno.EPERM
    assert len(warnings(m)) == 1 and "not modelled" in warnings(m)[0]


def test_count_handling(dom0):
    m = dom0
    assert m.call(H.grant_table_op, CMD, 1, 0) == 0  # count 0: nothing read
    assert m.call(H.grant_table_op, CMD, 1, 1) == -Errno.EFAULT
    assert m.call(H.grant_table_op, CMD, m.buf, 1 << 31) == -Errno.EINVAL  # (int)count < 0
    assert m.call(H.grant_table_op, CMD, m.buf, 0xFFFFFFFF) == -Errno.EINVAL
    a = own(m)
    assert flush(m, (a, 0, 8, CLEAN), (0, 0, 0, 0), (a, 8, 8, INVAL)) == 0
    # the first error ends the batch, whatever came before it
    assert flush(m, (a, 0, 8, CLEAN), (0x60000000, 0, 8, CLEAN), (a, 0, 8, 4)) == -Errno.EPERM
    assert flush(m, (a, 0, 8, CLEAN), (a, 0, 8, 4), (0x60000000, 0, 8, CLEAN)) == -Errno.EINVAL
    # entries past count are not read
    assert flush(m, (a, 0, 8, CLEAN), (a, 0, 8, 4), count=1) == 0
    # an entry past the end of guest memory faults only when reached
    m.put(m.mem.base + len(m.mem.ram) - 16, CF.pack(a, 0, 8, CLEAN))
    assert m.call(H.grant_table_op, CMD, m.mem.base + len(m.mem.ram) - 16, 2) == -Errno.EFAULT


def test_opaque_cur_ref_in_cmd(dom0, domu):
    for m in (dom0, domu):
        # a length-0 entry with a scan position pending is out of sequence
        assert flush(m, (0, 0, 0, 0), cmd=CMD | 1 << 12) == -Errno.EILSEQ
        assert flush(m, (0, 0, 0, 0), cmd=CMD | 0xFFFFF000) == -Errno.EILSEQ
        assert flush(m, (0, 0, 0, 0), cmd=CMD | 1 << 12, count=0) == 0
        assert flush(m, (own(m), 0, 8, 4), cmd=CMD | 1 << 12) == -Errno.EINVAL  # the argument checks come first
        # the other sub-ops take no opaque bits
        assert m.call(H.grant_table_op, 6 | 1 << 12, m.buf, 1) == -Errno.EINVAL
    # dom0: its own page needs no grant, and cur_ref is 0 again after it
    assert flush(dom0, (own(dom0), 0, 8, CLEAN), cmd=CMD | 1 << 12) == 0
    assert flush(dom0, (own(dom0), 0, 8, CLEAN), (0, 0, 0, 0), cmd=CMD | 1 << 12) == 0
    # domU: a scan of dom0's 512 entries that starts past them finds nothing
    assert flush(domu, (0x70000000, 0, 8, CLEAN), cmd=CMD | 1 << 12) == -Errno.EINVAL


def test_preempted_between_entries_continues_with_the_handle_advanced():
    m = Model(0)
    m.xen.preempt_every = 1
    a = own(m)
    assert flush(m, (a, 0, 8, CLEAN), (a, 0, 8, INVAL), (a, 0, 8, CLEAN)) == CMD
    assert m.xen.continuation == (H.grant_table_op, (CMD, m.buf + 16, 2))
    assert m.call(H.grant_table_op, CMD, m.buf + 16, 2) == CMD
    assert m.xen.continuation == (H.grant_table_op, (CMD, m.buf + 32, 1))
    assert m.call(H.grant_table_op, CMD, m.buf + 32, 1) == 0 and m.xen.continuation is None


def test_scan_of_another_domains_grants_continues_with_cur_ref_in_cmd():
    m = Model(1)
    m.xen.others[0].grant_frames = 64  # 32768 entries: eight chunks of 4096
    assert flush(m, (0x70000000, 0, 8, CLEAN)) == -Errno.EINVAL  # not preempted: the whole scan, then -EINVAL
    m.xen.preempt_every = 1
    uop = m.buf
    assert flush(m, (0x70000000, 0, 8, CLEAN)) == CMD | 4096
    assert m.xen.continuation == (H.grant_table_op, (CMD | 4096, uop, 1))
    for ref in range(4096, 7 * 4096, 4096):
        assert m.call(H.grant_table_op, CMD | ref, uop, 1) == CMD | (ref + 4096)
        assert m.xen.continuation == (H.grant_table_op, (CMD | (ref + 4096), uop, 1))
    assert m.call(H.grant_table_op, CMD | 7 * 4096, uop, 1) == -Errno.EINVAL
    assert m.xen.continuation is None


def test_scan_preempted_after_earlier_entries_keeps_count_and_handle():
    m = Model(1)
    m.xen.others[0].grant_frames = 16  # 8192 entries: two chunks
    m.xen.preempt_every = 2  # the between-entries check passes, the one inside the scan preempts
    rc = flush(m, (0, 0, 0, 0), (0x70000000, 0, 8, CLEAN), (0, 0, 0, 0))
    assert rc == CMD | 4096
    assert m.xen.continuation == (H.grant_table_op, (CMD | 4096, m.buf + 16, 2))
    m.xen.preempt_every = 0
    assert m.call(H.grant_table_op, CMD | 4096, m.buf + 16, 2) == -Errno.EINVAL
