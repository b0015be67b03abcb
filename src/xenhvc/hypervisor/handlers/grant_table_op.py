"""do_grant_table_op (xen/common/grant_table.c) for a domain's own v1 grant table on Arm
(GNTTAB_MAX_VERSION 1, INITIAL_NR_GRANT_FRAMES 1, opt_max_grant_frames 64).

Modelled: the entry checks, setup_table, query_size, get_version, set_version,
get_status_frames, and the per-element checks of map/unmap/copy that do not need a second
domain's memory to be mapped. Mapping a granted page into the caller's physical address space is
not modelled: such a request answers GNTST_general_error with a warning."""
from __future__ import annotations

import struct
from enum import IntEnum

from ...abi.errno import Errno
from ...abi.hypercalls import Hypercall
from ..context import HypercallContext
from . import Handler

GNTTABOP_CMD_MASK = (1 << 12) - 1
GNTTAB_MAX_VERSION = 1
INITIAL_NR_GRANT_FRAMES = 1
MAX_GRANT_FRAMES = 64
INVALID_GFN = 0xFFFFFFFFFFFFFFFF
GNTMAP_device_map, GNTMAP_host_map, GNTMAP_readonly = 1 << 0, 1 << 1, 1 << 2
GNTMAP_application_map, GNTMAP_contains_pte = 1 << 3, 1 << 4

SETUP_TABLE_T = struct.Struct("<HxxIh6xQ")  # dom, nr_frames, status, frame_list handle
QUERY_SIZE_T = struct.Struct("<HxxIIh2x")  # dom, nr_frames, max_nr_frames, status
GET_VERSION_T = struct.Struct("<HxxI")  # dom, version
SET_VERSION_T = struct.Struct("<I")
GET_STATUS_FRAMES_T = struct.Struct("<IHh8xQ")  # nr_frames, dom, status, frame_list
MAP_GRANT_REF_T = struct.Struct("<QIIHhIQ")  # host_addr, flags, ref, dom, status, handle, dev_bus_addr
UNMAP_GRANT_REF_T = struct.Struct("<QQIh2x")  # host_addr, dev_bus_addr, handle, status
GNTTAB_COPY_SIZE = 40
MAP_STATUS_OFFSET = 18
UNMAP_STATUS_OFFSET = 20


class GnttabOp(IntEnum):
    GNTTABOP_map_grant_ref = 0
    GNTTABOP_unmap_grant_ref = 1
    GNTTABOP_setup_table = 2
    GNTTABOP_dump_table = 3
    GNTTABOP_transfer = 4
    GNTTABOP_copy = 5
    GNTTABOP_query_size = 6
    GNTTABOP_unmap_and_replace = 7
    GNTTABOP_set_version = 8
    GNTTABOP_get_status_frames = 9
    GNTTABOP_get_version = 10
    GNTTABOP_swap_grant_ref = 11
    GNTTABOP_cache_flush = 12


class Gntst(IntEnum):
    GNTST_okay = 0
    GNTST_general_error = -1
    GNTST_bad_domain = -2
    GNTST_bad_gntref = -3
    GNTST_bad_handle = -4
    GNTST_permission_denied = -8


def _target(ctx: HypercallContext, domid: int):
    """rcu_lock_domain_by_any_id plus XSM_TARGET: (domain, None) or (None, GNTST_*)."""
    d = ctx.find_domain(domid)
    if d is None:
        return None, Gntst.GNTST_bad_domain
    if d is not ctx.domain and not ctx.domain.privileged:
        return None, Gntst.GNTST_permission_denied
    return d, None


def gnttab_setup_table(ctx: HypercallContext, uop: int, count: int) -> int:
    if count != 1:
        return -Errno.EINVAL
    dom, nr_frames, _, frame_list = ctx.read_struct(uop, SETUP_TABLE_T)
    d, status = _target(ctx, dom)
    if d is not None:
        if nr_frames > MAX_GRANT_FRAMES:
            status = Gntst.GNTST_general_error
        else:
            status = Gntst.GNTST_okay
            d.grant_frames = max(d.grant_frames, nr_frames, INITIAL_NR_GRANT_FRAMES)
            for i in range(nr_frames):
                gfn = d.grant_frame_gfns.get(i, INVALID_GFN)
                try:
                    ctx.mem.copy_to_guest(frame_list + 8 * i, struct.pack("<Q", gfn))
                except Exception:  # noqa: BLE001 - a GuestFault: per-frame status, not an errno
                    status = -5  # GNTST_bad_virt_addr
    ctx.mem.copy_to_guest(uop + 8, struct.pack("<h", status))
    return 0


def gnttab_query_size(ctx: HypercallContext, uop: int, count: int) -> int:
    if count != 1:
        return -Errno.EINVAL
    dom, nr_frames, max_nr_frames, status = ctx.read_struct(uop, QUERY_SIZE_T)
    d, err = _target(ctx, dom)
    if d is None:
        status = err
    else:
        nr_frames, max_nr_frames, status = d.grant_frames, MAX_GRANT_FRAMES, Gntst.GNTST_okay
    ctx.mem.copy_to_guest(uop, QUERY_SIZE_T.pack(dom, nr_frames, max_nr_frames, status))
    return 0


def gnttab_get_version(ctx: HypercallContext, uop: int) -> int:
    dom, _ = ctx.read_struct(uop, GET_VERSION_T)
    d = ctx.find_domain(dom)
    if d is None:
        return -Errno.ESRCH
    if d is not ctx.domain and not ctx.domain.privileged:
        return -Errno.EPERM
    ctx.mem.copy_to_guest(uop + 4, struct.pack("<I", d.grant_version))
    return 0


def gnttab_set_version(ctx: HypercallContext, uop: int) -> int:
    (version,) = ctx.read_struct(uop, SET_VERSION_T)
    if version not in (1, 2):
        res = -Errno.EINVAL
    elif version == 2 and GNTTAB_MAX_VERSION == 1:
        res = -Errno.ENOSYS
    else:
        res = 0
    ctx.mem.copy_to_guest(uop, struct.pack("<I", ctx.domain.grant_version))
    return res


def gnttab_get_status_frames(ctx: HypercallContext, uop: int, count: int) -> int:
    if count != 1:
        return -Errno.EINVAL
    nr_frames, dom, status, frame_list = ctx.read_struct(uop, GET_STATUS_FRAMES_T)
    d, status = _target(ctx, dom)
    if d is not None:
        # v1 has no status frames
        status = Gntst.GNTST_general_error if nr_frames > 0 else Gntst.GNTST_okay
    ctx.mem.copy_to_guest(uop + 6, struct.pack("<h", status))
    return 0


def _map_one(ctx: HypercallContext, host_addr: int, flags: int, ref: int, dom: int) -> int:
    if not flags & (GNTMAP_device_map | GNTMAP_host_map):
        return Gntst.GNTST_bad_gntref
    if flags & (GNTMAP_device_map | GNTMAP_application_map | GNTMAP_contains_pte):
        return Gntst.GNTST_general_error  # no device mapping in an HVM domain
    rd = ctx.find_domain(dom) if dom < 0x7FF0 else None  # rcu_lock_domain_by_id: no DOMID_SELF
    if rd is None:
        return Gntst.GNTST_bad_domain
    if ref >= rd.grant_frames * 512:
        return Gntst.GNTST_bad_gntref
    ctx.warn("mapping a granted page is not modelled yet; answering GNTST_general_error")
    return Gntst.GNTST_general_error


def _batch(ctx: HypercallContext, cmd: int, uop: int, count: int, size: int, status_offset: int, one) -> int:
    for i in range(count):
        entry = uop + i * size
        if i and ctx.preempt_check():  # the rest continues with the handle advanced
            return ctx.create_continuation(Hypercall.grant_table_op, cmd, entry, count - i)
        status = one(ctx.mem.copy_from_guest(entry, size))
        ctx.mem.copy_to_guest(entry + status_offset, struct.pack("<h", status))
    return 0


def do_grant_table_op(ctx: HypercallContext, cmd: int, uop: int, count: int) -> int:
    opaque = cmd & ~GNTTABOP_CMD_MASK
    if count >= 1 << 31:
        return -Errno.EINVAL
    cmd &= GNTTABOP_CMD_MASK
    if cmd != GnttabOp.GNTTABOP_cache_flush and opaque:
        return -Errno.EINVAL
    if cmd == GnttabOp.GNTTABOP_setup_table:
        return gnttab_setup_table(ctx, uop, count)
    if cmd == GnttabOp.GNTTABOP_query_size:
        return gnttab_query_size(ctx, uop, count)
    if cmd == GnttabOp.GNTTABOP_get_version:
        return gnttab_get_version(ctx, uop)
    if cmd == GnttabOp.GNTTABOP_set_version:
        return gnttab_set_version(ctx, uop)
    if cmd == GnttabOp.GNTTABOP_get_status_frames:
        return gnttab_get_status_frames(ctx, uop, count)
    if cmd == GnttabOp.GNTTABOP_map_grant_ref:
        return _batch(ctx, cmd, uop, count, MAP_GRANT_REF_T.size, MAP_STATUS_OFFSET,
                      lambda raw: _map_one(ctx, *MAP_GRANT_REF_T.unpack(raw)[:4]))
    if cmd in (GnttabOp.GNTTABOP_unmap_grant_ref, GnttabOp.GNTTABOP_unmap_and_replace):
        # nothing is ever mapped, so every handle is unknown
        return _batch(ctx, cmd, uop, count, UNMAP_GRANT_REF_T.size, UNMAP_STATUS_OFFSET,
                      lambda raw: Gntst.GNTST_bad_handle)
    if cmd in (GnttabOp.GNTTABOP_copy, GnttabOp.GNTTABOP_transfer, GnttabOp.GNTTABOP_swap_grant_ref,
               GnttabOp.GNTTABOP_cache_flush):
        if count == 0:
            return 0
        ctx.warn(f"{GnttabOp(cmd).name} is not modelled yet; answering -ENOSYS")
        return -Errno.ENOSYS
    return -Errno.ENOSYS


HANDLER = Handler(Hypercall.grant_table_op, do_grant_table_op, GnttabOp)
