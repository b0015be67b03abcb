"""memory_op: physmap (shared_info, grant frames), reservations, the stat ops and the rest."""
import struct

from hypothesis import given, settings
from hypothesis import strategies as st

from xenhvc.abi.errno import Errno
from xenhvc.abi.hypercalls import Hypercall as H

from tests.conftest import Model

SELF = 0x7FF0
XATP = struct.Struct("<HHIQQ")
RES = struct.Struct("<QQIIH6x")


def xatp(m, space, idx, gpfn, domid=SELF, size=0, cmd=7):
    m.put(m.buf, XATP.pack(domid, size, space, idx, gpfn))
    return m.call(H.memory_op, cmd, m.buf)


def remove(m, gpfn, domid=SELF, cmd=15):
    m.put(m.buf, struct.pack("<H6xQ", domid, gpfn))
    return m.call(H.memory_op, cmd, m.buf)


def res(m, op, gfns=(), order=0, flags=0, domid=SELF, nr=None, start=0):
    m.put(m.buf + 0x100, b"".join(struct.pack("<Q", g) for g in gfns) or b"\0")
    m.put(m.buf, RES.pack(m.buf + 0x100, len(gfns) if nr is None else nr, order, flags, domid))
    return m.call(H.memory_op, op | start << 6, m.buf)


def stat(m, op, domid=SELF):
    m.put(m.buf, struct.pack("<H", domid))
    return m.call(H.memory_op, op, m.buf)


def test_shared_info_mapping(dom0):
    gfn = (dom0.mem.base >> 12) + 4
    d = dom0.xen.domain
    d.shared_info.page[1072] = 7
    assert xatp(dom0, 0, 1, gfn) == -Errno.EINVAL
    assert xatp(dom0, 0, 0, gfn) == 0 and dom0.get(gfn << 12, 1088)[1072] == 7
    assert dom0.xen.trace[-1].notes == (f"gfn={gfn:#x}",)
    assert xatp(dom0, 0, 0, gfn) == -Errno.EBUSY and xatp(dom0, 0, 0, gfn + 1) == -Errno.EBUSY
    dom0.put((gfn << 12) + 560, b"\xff")  # the guest masks ports 0-7 in its mapping
    assert remove(dom0, gfn) == 0 and d.shared_info.gfn is None and d.shared_info.page[560] == 0xFF
    assert remove(dom0, gfn) == -Errno.ENOENT  # now a hole
    assert xatp(dom0, 0, 0, gfn + 1) == 0
    assert xatp(dom0, 0, 0, 2**64 - 1) == -Errno.EINVAL  # INVALID_GFN is checked first
    assert remove(dom0, 0x10) == -Errno.ENOENT and remove(dom0, gfn, domid=3) == -Errno.ESRCH
    assert remove(dom0, gfn, cmd=15 | 64) == -Errno.EINVAL


def test_shared_info_outside_ram_and_ipa(domu):
    assert xatp(domu, 0, 0, 2**64 - 1) == -Errno.EINVAL  # INVALID_GFN
    assert xatp(domu, 0, 0, 1 << 32) == -Errno.EINVAL  # beyond the 44-bit IPA space
    assert xatp(domu, 0, 0, 0x38000) == 0  # a GFN without RAM: stays host-side
    assert stat(domu, 14) == ((domu.mem.base + len(domu.mem.ram)) >> 12) - 1  # below the RAM end


def test_grant_table_frames(domu):
    base = domu.mem.base >> 12
    assert xatp(domu, 1, 0, base + 2) == 0
    assert xatp(domu, 1, 0, base + 3) == -Errno.EBUSY
    assert xatp(domu, 1, 63, base + 4) == 0  # grows the table to 64 frames
    assert xatp(domu, 1, 64, base + 5) == -Errno.EINVAL
    assert xatp(domu, 1, 0x80000000, base + 5) == -Errno.EINVAL  # status frames need v2
    assert xatp(domu, 1, 0xFFFFFFFF, base + 5) == -Errno.EINVAL  # idx + 1 wraps
    assert xatp(domu, 1, 1 << 32, base + 5) == -Errno.EBUSY  # idx is truncated to frame 0
    assert domu.xen.domain.grant_frames == 64
    assert remove(domu, base + 2) == 0 and xatp(domu, 1, 0, base + 3) == 0


def test_add_to_physmap_spaces(dom0, domu):
    for m in (dom0, domu):
        assert xatp(m, 2, 0, 0x40000) == -Errno.ENOSYS
        assert xatp(m, 4, 0, 0x40000) == -Errno.ENOSYS
        assert xatp(m, 6, 0, 0x40000) == -Errno.ENOSYS
        assert xatp(m, 3, 0, 0x40000, size=0) == 0
        assert xatp(m, 3, 0, 0x40000, size=2) == -Errno.ENOSYS
        assert xatp(m, 3, 0, 0x40000, size=1, cmd=7 | 2 << 6) == -Errno.EILSEQ
        assert xatp(m, 3, 0, 2**64 - 2, size=5) == -Errno.EOVERFLOW
        assert xatp(m, 0, 0, 0x40000, cmd=7 | 0x10000 << 6) == -Errno.EDOM
        assert xatp(m, 0, 0, 0x40000, domid=9) == -Errno.ESRCH
        assert m.call(H.memory_op, 7, 1) == -Errno.EFAULT
    assert xatp(domu, 5, 0x9000, 0x9000) == -Errno.EACCES
    assert xatp(dom0, 5, 0x9000, 0x9000) == 0


def test_add_to_physmap_batch(domu):
    b = domu.buf
    domu.put(b + 0x100, struct.pack("<QQ", 0, 0))
    domu.put(b + 0x200, struct.pack("<QQ", (domu.mem.base >> 12) + 8, 2**64 - 1))
    domu.put(b, struct.pack("<HHHHQQQ", SELF, 0, 1, 0, b + 0x100, b + 0x200, b + 0x300))
    assert domu.call(H.memory_op, 23, b) == 0
    assert struct.unpack("<i", domu.get(b + 0x300, 4))[0] == 0
    domu.put(b, struct.pack("<HHHHQQQ", SELF, 0, 1, 0, b + 0x100, b + 0x200, b + 0x300))
    assert domu.call(H.memory_op, 23, b) == 0 and struct.unpack("<i", domu.get(b + 0x300, 4))[0] == -Errno.EBUSY
    domu.put(b, struct.pack("<HHHHQQQ", SELF, 0, 2, 0, b + 0x100, b + 0x200, b + 0x300))
    assert domu.call(H.memory_op, 23 | 1 << 6, b) == -Errno.EINVAL  # INVALID_GFN at extent 1
    domu.put(b, struct.pack("<HHHHQQQ", SELF, 3, 2, 0, b, b, b))
    assert domu.call(H.memory_op, 23, b) == -Errno.EOPNOTSUPP
    domu.put(b, struct.pack("<HHHHQQQ", SELF, 0, 0, 0, b, b, b))
    assert domu.call(H.memory_op, 23, b) == 0 and domu.call(H.memory_op, 23 | 1 << 6, b) == -Errno.EILSEQ
    domu.put(b, struct.pack("<HHHHQQQ", SELF, 2, 1, 0, 1, b, b))
    assert domu.call(H.memory_op, 23, b) == -Errno.EFAULT
    domu.put(b, struct.pack("<HHHHQQQ", SELF, 4, 1, SELF, b + 0x100, b + 0x200, b + 0x300))
    assert domu.call(H.memory_op, 23, b) == 0 and struct.unpack("<i", domu.get(b + 0x300, 4))[0] == -Errno.EINVAL


def test_reservations_domu(domu):
    base = domu.mem.base >> 12
    pages = len(domu.mem.ram) >> 12
    assert stat(domu, 3) == pages and stat(domu, 4) == pages
    assert res(domu, 0, nr=3) == 0  # at max_pages: nothing can be allocated
    assert res(domu, 1, [base + 1, base + 2, 0x10]) == 2  # the third GFN is not RAM
    assert stat(domu, 3) == pages - 2
    assert res(domu, 1, [base + 1]) == 0  # already gone
    assert res(domu, 6, [base + 1, base + 2, base + 3], start=1) == 3
    assert stat(domu, 3) == pages + 0 and res(domu, 6, [base + 1]) == 0  # max_pages reached
    assert res(domu, 1, [base + 4], order=10) == 0  # beyond domU's max order 9
    assert res(domu, 1, [base + 4], order=1) == 1 and res(domu, 0, nr=3) == 2  # two pages back
    assert res(domu, 0, nr=1, flags=12) == 0 and res(domu, 0, nr=1, flags=20) == 0
    assert res(domu, 6, [base + 4], flags=1 << 16) == 0  # populate-on-demand on oneself
    assert res(domu, 6, [base + 4], flags=(1 << 17) | (1 << 8)) == 0  # exact node for a domU
    assert res(domu, 0, nr=1 << 26) == 0 and res(domu, 0, nr=2, start=2) == 2
    assert res(domu, 0, nr=2, domid=7, start=1) == 1 and domu.call(H.memory_op, 0 | 5 << 6, 1) == 5


def test_reservations_dom0_direct_mapped(dom0):
    base = dom0.mem.base >> 12
    pages = len(dom0.mem.ram) >> 12
    assert res(dom0, 1, [base + 1, base + 2]) == 2 and stat(dom0, 3) == pages  # pages stay dom0's
    assert res(dom0, 6, [base + 1, base + 2, 0x10]) == 2  # only its own frames come back
    assert res(dom0, 6, [base], order=18) == 0  # not all its frames
    assert res(dom0, 1, [base], order=19) == 0  # beyond MAX_ORDER
    assert res(dom0, 6, [base + 1], flags=2 << 8) == 0  # node 1 does not exist


def test_stat_ops(dom0, domu):
    assert dom0.call(H.memory_op, 2, 0) == 0x80000 and dom0.call(H.memory_op, 2 | 1 << 6, 0) == -Errno.EINVAL
    assert stat(dom0, 14) == 0xFFFFFFF
    assert stat(domu, 14) == ((domu.mem.base + len(domu.mem.ram)) >> 12) - 1
    for op in (3, 4, 14):
        assert stat(dom0, op, domid=5) == -Errno.ESRCH
        assert dom0.call(H.memory_op, op, 1) == -Errno.EFAULT
        assert dom0.call(H.memory_op, op | 1 << 6, dom0.buf) == -Errno.EINVAL


def test_other_ops(dom0, domu):
    for op in (5, 8, 9, 10, 12, 13, 16, 17, 20, 22, 25, 29, 63):
        assert dom0.call(H.memory_op, op, dom0.buf) == -Errno.ENOSYS, op
    assert dom0.call(H.memory_op, 18, 0) == 0 and dom0.call(H.memory_op, 19 | 1 << 32, 0) == 0
    assert dom0.call(H.memory_op, 18 | 1 << 6, 0) == -Errno.ENOSYS
    # claim_pages
    dom0.put(dom0.buf, RES.pack(0, 0, 0, 0, 0))
    assert dom0.call(H.memory_op, 24, dom0.buf) == 0
    dom0.put(dom0.buf, RES.pack(0, 99999, 0, 0, 0))
    assert dom0.call(H.memory_op, 24, dom0.buf) == -Errno.EINVAL
    dom0.put(dom0.buf, RES.pack(0, 0, 0, 0, SELF))
    assert dom0.call(H.memory_op, 24, dom0.buf) == -Errno.EINVAL
    domu.put(domu.buf, RES.pack(0, 0, 0, 0, 1))
    assert domu.call(H.memory_op, 24, domu.buf) == -Errno.EPERM
    # get_vnumainfo, reserved_device_memory_map, acquire_resource, access_op
    dom0.put(dom0.buf, struct.pack("<HH", SELF, 0).ljust(40, b"\0"))
    assert dom0.call(H.memory_op, 26, dom0.buf) == -Errno.EOPNOTSUPP
    dom0.put(dom0.buf, struct.pack("<HH", SELF, 1).ljust(40, b"\0"))
    assert dom0.call(H.memory_op, 26, dom0.buf) == -Errno.EINVAL
    dom0.put(dom0.buf, struct.pack("<II", 0, 5).ljust(24, b"\0"))
    assert dom0.call(H.memory_op, 27, dom0.buf) == 0 and dom0.get(dom0.buf + 4, 4) == bytes(4)
    dom0.put(dom0.buf, struct.pack("<II", 2, 5).ljust(24, b"\0"))
    assert dom0.call(H.memory_op, 27, dom0.buf) == -Errno.EINVAL
    for domid, rc in ((0, -Errno.EPERM), (SELF, -Errno.ESRCH), (3, -Errno.ESRCH)):
        dom0.put(dom0.buf, struct.pack("<HHIIIQQ", domid, 1, 0, 1, 0, 0, 0))
        assert dom0.call(H.memory_op, 28, dom0.buf) == rc
        dom0.put(dom0.buf, struct.pack("<BBHIQQQ", 0, 0, domid, 0, 0, 0, 0))
        assert dom0.call(H.memory_op, 21, dom0.buf) == rc
    dom0.put(dom0.buf, struct.pack("<HHIIIQQ", 0, 1, 0, 1, 1, 0, 0))
    assert dom0.call(H.memory_op, 28, dom0.buf) == -Errno.EINVAL
    dom0.put(dom0.buf, struct.pack("<HHIIIQQ", 0, 1, 0, 2, 0, 2**32 - 1, 0))
    assert dom0.call(H.memory_op, 28, dom0.buf) == -Errno.EINVAL


def test_exchange(domu):
    def ex(in_nr, in_order, out_nr, out_order, done=0, in_dom=SELF, out_dom=SELF):
        domu.put(domu.buf, RES.pack(0, in_nr, in_order, 0, in_dom) + RES.pack(0, out_nr, out_order, 0, out_dom)
                 + struct.pack("<Q", done))
        return domu.call(H.memory_op, 11, domu.buf)

    assert ex(1, 10, 1, 10) == -Errno.EPERM
    assert ex(2, 0, 1, 0) == -Errno.EINVAL
    assert ex(2, 0, 1, 1) == 0 and struct.unpack("<Q", domu.get(domu.buf + 64, 8))[0] == 2
    assert ex(2, 0, 2, 0, done=2) == 0
    assert ex(2, 0, 2, 0, in_dom=4, out_dom=4) == -Errno.ESRCH
    assert ex(2, 0, 2, 0, out_dom=4) == -Errno.EINVAL
    assert domu.call(H.memory_op, 11 | 1 << 6, domu.buf) == -Errno.EINVAL
    assert domu.call(H.memory_op, 11, 1) == -Errno.EFAULT


@settings(max_examples=300, deadline=None)
@given(ops=st.lists(st.tuples(st.integers(0, 2**12), st.binary(min_size=72, max_size=72),
                              st.lists(st.integers(0x3FFF0, 0x40020), max_size=4)), max_size=6),
       domid=st.sampled_from([0, 1]))
def test_random_memory_ops_never_raise(ops, domid):
    m = Model(domid)
    for cmd, data, gfns in ops:
        m.put(m.buf + 0x200, b"".join(struct.pack("<Q", g) for g in gfns) or b"\0")
        m.put(m.buf, data)
        rc = m.call(H.memory_op, cmd, m.buf)
        assert rc >= 0 or -rc in Errno._value2member_map_


def test_domu_on_dom0_is_refused(domu):
    assert stat(domu, 3, domid=0) == -Errno.EPERM and stat(domu, 14, domid=0) == -Errno.EPERM
    assert res(domu, 1, [domu.mem.base >> 12], domid=0) == 0  # XSM_TARGET: the start extent
    assert remove(domu, domu.mem.base >> 12, domid=0) == -Errno.EPERM
    assert xatp(domu, 0, 0, 0x40000, domid=0) == -Errno.EPERM
    assert xatp(domu, 5, 0, 0x40000, domid=0) == -Errno.EACCES
    domu.put(domu.buf, struct.pack("<HHIIIQQ", 0, 1, 0, 1, 0, 0, 0))
    assert domu.call(H.memory_op, 28, domu.buf) == -Errno.EPERM  # XSM_DM_PRIV
