"""hypercall_create_continuation through the handlers that check for preemption."""
import struct

from xenhvc.abi.hypercalls import Hypercall as H

from tests.conftest import Model

RES = struct.Struct("<QQIIH6x")  # xen_memory_reservation: extent_start, nr_extents, order, flags, domid


def test_memory_op_reservation_continues_with_done_extents_in_cmd():
    m = Model(1)
    m.xen.preempt_every = 1
    gfn = m.mem.base >> 12
    m.put(m.buf + 64, struct.pack("<3Q", gfn + 4, gfn + 5, gfn + 6))
    m.put(m.buf, RES.pack(m.buf + 64, 3, 0, 0, 0x7FF0))
    rc = m.call(H.memory_op, 1, m.buf)  # decrease_reservation of 3 extents
    assert m.xen.continuation == (H.memory_op, (1 | (1 << 6), m.buf)) and rc == 1 | (1 << 6)
    m.call(H.memory_op, 1 | (1 << 6), m.buf)  # the re-issued call goes on from extent 1
    assert m.xen.continuation == (H.memory_op, (1 | (2 << 6), m.buf))
    m.xen.preempt_every = 0
    assert m.call(H.memory_op, 1 | (2 << 6), m.buf) == 3 and m.xen.continuation is None


def test_grant_batch_continues_with_the_handle_advanced():
    m = Model(0)
    m.xen.preempt_every = 1
    m.put(m.buf, bytes(32 * 3))  # gnttab_map_grant_ref is 32 bytes
    m.call(H.grant_table_op, 0, m.buf, 3)
    assert m.xen.continuation == (H.grant_table_op, (0, m.buf + 32, 2))


def test_preemption_inside_a_multicall_is_written_into_the_entry():
    m = Model(0)
    m.put(m.buf + 0x100, b"x" * 300)
    m.put(m.buf, struct.pack("<QQ6Q", H.console_io, 0, 0, 300, m.buf + 0x100, 0, 0, 0))
    m.xen.preempt_every = 2  # the first check (inside console_io, after one chunk) is not taken
    assert m.call(H.multicall, m.buf, 1) == m.buf
    entry = struct.unpack("<QQ6Q", m.get(m.buf, 64))
    assert entry[2:5] == (0, 300 - 127 * 2, m.buf + 0x100 + 254)
    assert m.xen.continuation == (H.multicall, (m.buf, 1))
