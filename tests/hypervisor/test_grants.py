"""grant_table_op: copy and map/unmap_grant_ref of a domain's own grants (as real Xen 4.17 answers,
guests/conformance/t14_grants.c), and the CPU-side page alias a host mapping makes."""
import ctypes
import mmap
import struct

from unicorn import UC_ARCH_ARM64, UC_MODE_ARM, UC_PROT_ALL, Uc

from xenhvc.abi.hypercalls import Hypercall as H
from xenhvc.cpu.guestmem import GuestMemory
from xenhvc.loader.place import MemoryBank

SELF = 0x7FF0
COPY = struct.Struct("<QHH4xQHH4xHHh2x")
MAP = struct.Struct("<QIIHhIQ")
UNMAP = struct.Struct("<QQIh2x")
SRC_GREF, DST_GREF = 1, 2
HOST_MAP, READONLY = 2, 4


def setup(m):
    """Grant frame 0 at page 2 of RAM; pages 4.. are the domain's own."""
    base = m.mem.base >> 12
    m.put(m.buf, struct.pack("<HHIQQ", SELF, 0, 1, 0, base + 2))
    assert m.call(H.memory_op, 7, m.buf) == 0
    return base


def grant(m, ref, gfn, flags=1, domid=None):
    domid = m.xen.domain.domid if domid is None else domid
    m.put(m.mem.base + 0x2000 + 8 * ref, struct.pack("<HHI", flags, domid, gfn))


def flags(m, ref):
    return struct.unpack("<H", m.get(m.mem.base + 0x2000 + 8 * ref, 2))[0]


def copy(m, *ops):
    m.put(m.buf, b"".join(COPY.pack(*op, 0x5555) for op in ops))
    rc = m.call(H.grant_table_op, 5, m.buf, len(ops))
    return rc, [struct.unpack_from("<h", m.get(m.buf + 40 * i + 36, 2))[0] for i in range(len(ops))]


def map_(m, host_gfn, ref, dom, fl=HOST_MAP):
    m.put(m.buf, MAP.pack(host_gfn << 12, fl, ref, dom, 0x5555, 0xDEADBEEF, 0))
    assert m.call(H.grant_table_op, 0, m.buf, 1) == 0
    _, _, _, _, status, handle, bus = MAP.unpack(m.get(m.buf, MAP.size))
    return status, handle, bus


def unmap(m, host_gfn, handle, cmd=1, new=0):
    m.put(m.buf, UNMAP.pack(host_gfn << 12, new, handle, 0x5555))
    assert m.call(H.grant_table_op, cmd, m.buf, 1) == 0
    return UNMAP.unpack(m.get(m.buf, UNMAP.size))[3]


def test_copy_roundtrip_and_errors(dom0, domu):
    for m in (dom0, domu):
        base = setup(m)
        src = bytes(range(256)) * 16
        m.put((base + 4) << 12, src)
        grant(m, 8, base + 4)
        assert copy(m, (8, SELF, 16, base + 5, SELF, 32, 256, SRC_GREF)) == (0, [0])
        assert m.get(((base + 5) << 12) + 32, 256) == src[16:272] and flags(m, 8) == 1
        m.put((base + 5) << 12, bytes(4096))
        own = m.xen.domain.domid
        assert copy(m, (base + 5, SELF, 0, 8, own, 0, 4096, DST_GREF)) == (0, [0])
        assert m.get((base + 4) << 12, 4096) == bytes(4096) and flags(m, 8) == 1
        grant(m, 11, base + 4, domid=own + 1)
        grant(m, 10, base + 4, flags=1 | 4)  # GTF_readonly
        cases = [
            ((100000, SELF, 0, base + 5, SELF, 0, 8, SRC_GREF), -3),
            ((20, SELF, 0, base + 5, SELF, 0, 8, SRC_GREF), -1),  # unused entry
            ((11, SELF, 0, base + 5, SELF, 0, 8, SRC_GREF), -1),  # granted to another domid
            ((10, SELF, 0, base + 5, SELF, 0, 8, SRC_GREF), 0),  # reading a r/o grant
            ((base + 5, SELF, 0, 10, SELF, 0, 8, DST_GREF), -1),  # writing it
            ((8, SELF, 4000, base + 5, SELF, 0, 200, SRC_GREF), -10),
            ((8, SELF, 0, base + 5, SELF, 0, 4097, SRC_GREF), -10),
            ((base + 5, 0, 0, 8, SELF, 0, 8, DST_GREF), -8),  # only DOMID_SELF names a frame
            ((8, 5, 0, base + 5, SELF, 0, 8, SRC_GREF), -2),
            ((8, 0x7FF1, 0, base + 5, SELF, 0, 8, SRC_GREF), -2),
            ((0x10, SELF, 0, 8, SELF, 0, 8, DST_GREF), -9),  # not RAM
            ((8, SELF, 0, 0x10, SELF, 0, 8, SRC_GREF), -9),
        ]
        for op, status in cases:
            assert copy(m, op) == (0, [status]), op
        assert flags(m, 8) == 1 and flags(m, 10) == 5
        assert copy(m, *(op for op, _ in cases[:3])) == (0, [-3, -1, -1])
        assert m.call(H.grant_table_op, 5, 1, 1) == -14


def test_map_own_grant_aliases_and_unmaps(dom0):
    m = dom0
    base = setup(m)
    grant(m, 12, base + 4)
    assert map_(m, base + 6, 12, SELF)[0] == -2  # rcu_lock_domain_by_id: no DOMID_SELF
    status, handle, bus = map_(m, base + 6, 12, 0)
    assert (status, handle, bus) == (0, 0, (base + 4) << 12)
    assert flags(m, 12) == 1 | 8 | 16  # GTF_reading | GTF_writing
    assert m.xen.domain.physmap.removed >= {base + 6}  # the P2M entry is a grant mapping now
    assert unmap(m, base + 7, handle) == -1  # not where it is mapped
    assert unmap(m, base + 6, handle, cmd=7, new=(base + 7) << 12) == -1  # unmap_and_replace
    assert unmap(m, base + 6, handle) == 0 and flags(m, 12) == 1
    assert unmap(m, base + 6, handle) == -4 and unmap(m, base + 6, 12345) == -4
    # a readonly map sets GTF_reading only; unmapping without host_addr keeps the mapping
    status, handle, _ = map_(m, base + 6, 12, 0, HOST_MAP | READONLY)
    assert status == 0 and handle == 0 and flags(m, 12) == 1 | 8
    assert unmap(m, 0, handle) == 0 and flags(m, 12) == 1 | 8
    assert unmap(m, base + 6, handle) == 0 and flags(m, 12) == 1


def test_map_refusals(domu):
    m = domu
    base = setup(m)
    grant(m, 13, base + 4)
    grant(m, 14, base + 4, domid=5)
    assert map_(m, base + 6, 13, 1, 0)[0] == -3
    assert map_(m, base + 6, 13, 1, HOST_MAP | 1)[0] == -1  # device_map
    assert map_(m, base + 6, 20, 1)[0] == -1
    assert map_(m, base + 6, 14, 1)[0] == -1
    assert map_(m, base + 6, 100000, 1)[0] == -3
    assert map_(m, base + 6, 13, 5)[0] == -2
    grant(m, 15, 0x10)  # a frame that is not RAM
    assert map_(m, base + 6, 15, 1)[0] == -9 and flags(m, 15) == 1
    assert flags(m, 13) == 1
    assert m.call(H.grant_table_op, 0, 1, 1) == -14 and m.call(H.grant_table_op, 1, 1, 1) == -14


def test_guest_memory_alias_page():
    uc = Uc(UC_ARCH_ARM64, UC_MODE_ARM)
    bank = MemoryBank(0x40000000, 0x10000)
    ram = mmap.mmap(-1, bank.size)
    uc.mem_map_ptr(bank.base, bank.size, UC_PROT_ALL, ctypes.addressof(ctypes.c_char.from_buffer(ram)))
    mem = GuestMemory(uc, bank, lambda: False, None, ram)
    mem.write_phys(0x40004000, b"granted")
    mem.write_phys(0x40006000, b"own")
    assert mem.alias_page(0x40006000, 0x40004000)
    assert bytes(uc.mem_read(0x40006000, 7)) == b"granted" and mem.copy_from_guest(0x40006000, 7) == b"granted"
    uc.mem_write(0x40006001, b"R")
    assert mem.read_phys(0x40004000, 7) == b"gRanted"
    assert not mem.alias_page(0x80000000, 0x40004000)
    mem.unalias_page(0x40006000)
    assert bytes(uc.mem_read(0x40006000, 3)) == b"own" and mem.copy_from_guest(0x40006000, 3) == b"own"
