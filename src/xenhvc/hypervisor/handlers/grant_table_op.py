"""do_grant_table_op (xen/common/grant_table.c) for a domain's own v1 grant table on Arm
(GNTTAB_MAX_VERSION 1, INITIAL_NR_GRANT_FRAMES 1, opt_max_grant_frames 64).

Modelled: the entry checks, setup_table, query_size, get_version, set_version,
get_status_frames, and map_grant_ref / unmap_grant_ref / copy of a domain's own grants (a v1
entry {GTF_permit_access, its own domid, a GFN of its RAM} in a grant frame it mapped with
XENMEM_add_to_physmap; the entries live in guest RAM at that GFN). A host mapping (GNTMAP_host_map
at host_addr, create_grant_host_mapping) shows the granted page at host_addr: the CPU side aliases
the page (GuestMemory.alias_page), and the P2M sees host_addr as no longer RAM; unmapping leaves a
hole for the hypercall interfaces while the vCPU gets its own page back. The GTF_reading /
GTF_writing bits follow the pins as in Xen. Grants of another domain (whose memory the model does
not hold) answer GNTST_general_error with a warning; transfer and swap_grant_ref answer -ENOSYS with
a warning.

cache_flush (gnttab_cache_flush / _cache_flush): the argument checks (GNTTAB_CACHE_SOURCE_GREF is
among the refused op bits, so a grant-reference source is -EINVAL), the length-0 / op-0 no-op that
Linux's xen_mm_init probes with, then the machine frame of dev_bus_addr: not host RAM (mfn_valid)
-EINVAL; no owner (a free page, Xen's own) -EPERM; the caller's own page 0 (the maintenance itself
has nothing to do in an emulator); another domain's page: a scan of that domain's grants for one the
caller maps there, GNTTAB_SCAN_CHUNK entries per preemption check with the position (cur_ref) in the
upper bits of cmd across a continuation, ending in -EINVAL (the model holds no mapping of another
domain's grant). dom0 is direct-mapped: it owns its RAM bank and its shared_info page (its grant
frames too, at MFNs the model does not know). A domU's own machine frames are unknown to the model
(and to the domU): a host RAM frame outside the observer dom0's gets -EPERM with a warning."""
from __future__ import annotations

import struct
from dataclasses import dataclass, field
from enum import IntEnum

from ...abi.errno import Errno
from ...abi.hypercalls import Hypercall
from ..context import GuestFault, HypercallContext
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
GNTTAB_COPY_T = struct.Struct("<QHH4xQHH4xHHh2x")  # source {u, domid, offset}, dest {...}, len, flags, status
GNTTAB_COPY_SIZE = 40
COPY_STATUS_OFFSET = 36
GNTCOPY_source_gref, GNTCOPY_dest_gref = 1 << 0, 1 << 1
GTF_permit_access, GTF_type_mask, GTF_readonly = 1, 3, 1 << 2
GTF_reading, GTF_writing, GTF_sub_page = 1 << 3, 1 << 4, 1 << 8
ENTRIES_PER_FRAME = 512  # v1: 8-byte entries
PAGE_SHIFT, PAGE_SIZE = 12, 4096
DOMID_SELF = 0x7FF0
DOMID_FIRST_RESERVED = 0x7FF0
#: Arm's P2M: a GFN is mappable below the 44-bit IPA size (p2m_get_root_pointer)
P2M_IPA_BITS = 44
#: maptrack handles: v1 frames x MAX_MAPTRACK_TO_GRANTS_RATIO (8) x entries per frame
MAPTRACK_LIMIT = MAX_GRANT_FRAMES * ENTRIES_PER_FRAME * 8
MAP_STATUS_OFFSET = 18
UNMAP_STATUS_OFFSET = 20
CACHE_FLUSH_T = struct.Struct("<QHHI")  # a (dev_bus_addr, or ref), offset, length, op
GNTTAB_CACHE_CLEAN, GNTTAB_CACHE_INVAL, GNTTAB_CACHE_SOURCE_GREF = 1 << 0, 1 << 1, 1 << 31
#: 1 << GNTTABOP_CONTINUATION_ARG_SHIFT: grant entries grant_map_exists scans between preemption checks
GNTTAB_SCAN_CHUNK = 1 << 12
#: the frames of the observer dom0 beside a domU on the oracle: its bank 0x70000000-0x78000000
#: (dom0_mem=128M; loader/place.py DOM0_RAM_BASE), read back with cache_flush (t14_grants.c)
ORACLE_DOM0_FRAMES = range(0x70000, 0x78000)


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
    GNTST_bad_virt_addr = -5
    GNTST_permission_denied = -8
    GNTST_bad_page = -9
    GNTST_bad_copy_arg = -10
    GNTST_no_space = -13


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
                except GuestFault:  # per-frame status, not an errno
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


@dataclass
class GrantMap:
    """A maptrack entry: a host mapping of (domid, ref) at host_gfn, of the page at frame_gfn."""
    domid: int
    ref: int
    flags: int
    host_gfn: int
    frame_gfn: int


@dataclass
class Pin:
    """An active grant entry (act->pin split into readers and writers, and the frame it pins)."""
    readers: int = 0
    writers: int = 0
    frame_gfn: int = 0


@dataclass
class GrantState:
    maps: dict[int, GrantMap] = field(default_factory=dict)
    free_handles: list[int] = field(default_factory=list)  # put_maptrack_handle: reused first
    next_handle: int = 0
    pins: dict[int, Pin] = field(default_factory=dict)  # ref -> active entry of this domain's grants


def _state(d) -> GrantState:
    if d.grants is None:
        d.grants = GrantState()
    return d.grants


def _entry_addr(ctx: HypercallContext, d, ref: int) -> int | None:
    """The guest-physical address of v1 entry ``ref``, if its frame is mapped in RAM."""
    gfn = d.grant_frame_gfns.get(ref // ENTRIES_PER_FRAME)
    if gfn is None:
        return None
    addr = (gfn << PAGE_SHIFT) + 8 * (ref % ENTRIES_PER_FRAME)
    return addr if ctx.mem.is_ram(addr, 8) else None


def _entry(ctx: HypercallContext, d, ref: int) -> tuple[int, int, int]:
    """(flags, domid, frame) of v1 entry ``ref``; a frame the guest cannot reach reads as zeros."""
    addr = _entry_addr(ctx, d, ref)
    return struct.unpack("<HHI", ctx.mem.read_phys(addr, 8)) if addr is not None else (0, 0, 0)


def _set_flags(ctx: HypercallContext, d, ref: int, set_bits: int = 0, clear_bits: int = 0) -> None:
    addr = _entry_addr(ctx, d, ref)
    if addr is not None:
        (flags,) = struct.unpack("<H", ctx.mem.read_phys(addr, 2))
        ctx.mem.write_phys(addr, struct.pack("<H", (flags | set_bits) & ~clear_bits & 0xFFFF))


def _page_ok(ctx: HypercallContext, d, gfn: int) -> bool:
    """get_paged_frame: a RAM page of d (the model holds only the caller's RAM)."""
    from .memory_op import guest_page_ok

    return d is ctx.domain and guest_page_ok(ctx, gfn)


def _pin(ctx: HypercallContext, rd, ref: int, readonly: bool, mapflag: bool) -> int:
    """The pinning half of map_grant_ref / acquire_grant_for_copy (v1, rd is the caller)."""
    pins = _state(rd).pins
    act = pins.get(ref)
    if act is None or (not readonly and not act.writers):
        flags, domid, frame = _entry(ctx, rd, ref)
        mask = GTF_type_mask | (GTF_sub_page if mapflag else 0)
        if act is None and ((flags & mask) != GTF_permit_access or domid != ctx.domain.domid):
            return Gntst.GNTST_general_error
        if not readonly and flags & GTF_readonly:
            return Gntst.GNTST_general_error
        _set_flags(ctx, rd, ref, GTF_reading | (0 if readonly else GTF_writing))
        if act is None:
            if not _page_ok(ctx, rd, frame):
                _unpin_flags(ctx, rd, ref, None)
                return Gntst.GNTST_bad_page
            act = pins[ref] = Pin(frame_gfn=frame)
    if readonly:
        act.readers += 1
    else:
        act.writers += 1
    return Gntst.GNTST_okay


def _unpin_flags(ctx: HypercallContext, rd, ref: int, act: Pin | None) -> None:
    """reduce_status_for_pin: GTF_writing goes with the last writer, GTF_reading with the last pin."""
    if act is None or not act.writers:
        _set_flags(ctx, rd, ref, clear_bits=GTF_writing)
    if act is None or not act.readers + act.writers:
        _set_flags(ctx, rd, ref, clear_bits=GTF_reading)


def _unpin(ctx: HypercallContext, rd, ref: int, readonly: bool) -> None:
    pins = _state(rd).pins
    act = pins[ref]
    if readonly:
        act.readers -= 1
    else:
        act.writers -= 1
    if not act.readers + act.writers:
        del pins[ref]
        act = None
    _unpin_flags(ctx, rd, ref, act)


def _map_one(ctx: HypercallContext, entry: int, raw: bytes) -> int:
    host_addr, flags, ref, dom, _, _, _ = MAP_GRANT_REF_T.unpack(raw)
    if not flags & (GNTMAP_device_map | GNTMAP_host_map):
        return Gntst.GNTST_bad_gntref
    if flags & (GNTMAP_device_map | GNTMAP_application_map | GNTMAP_contains_pte):
        return Gntst.GNTST_general_error  # no device mapping in an HVM domain
    rd = ctx.find_domain(dom) if dom < DOMID_FIRST_RESERVED else None  # rcu_lock_domain_by_id
    if rd is None:
        return Gntst.GNTST_bad_domain
    st = _state(ctx.domain)
    if not st.free_handles and st.next_handle >= MAPTRACK_LIMIT:
        return Gntst.GNTST_no_space
    if ref >= rd.grant_frames * ENTRIES_PER_FRAME:
        return Gntst.GNTST_bad_gntref
    if rd is not ctx.domain:
        ctx.warn("mapping another domain's grant is not modelled; answering GNTST_general_error")
        return Gntst.GNTST_general_error
    readonly = bool(flags & GNTMAP_readonly)
    rc = _pin(ctx, rd, ref, readonly, True)
    if rc != Gntst.GNTST_okay:
        return rc
    frame = st.pins[ref].frame_gfn
    host_gfn = host_addr >> PAGE_SHIFT
    if host_gfn >= 1 << (P2M_IPA_BITS - PAGE_SHIFT):  # guest_physmap_add_entry fails
        _unpin(ctx, rd, ref, readonly)
        return Gntst.GNTST_general_error
    _host_map(ctx, host_gfn, frame)
    handle = st.free_handles.pop() if st.free_handles else st.next_handle
    st.next_handle = max(st.next_handle, handle + 1)
    st.maps[handle] = GrantMap(dom, ref, flags, host_gfn, frame)
    ctx.mem.copy_to_guest(entry + 20, struct.pack("<IQ", handle, frame << PAGE_SHIFT))  # handle, dev_bus_addr
    return Gntst.GNTST_okay


def _host_map(ctx: HypercallContext, host_gfn: int, frame: int) -> None:
    """create_grant_host_mapping: the P2M entry at host_gfn becomes a grant mapping of frame."""
    from .memory_op import _remove, physmap

    pm = physmap(ctx)
    if pm.is_ram(host_gfn) or host_gfn in pm.xenheap:
        _remove(ctx, pm, host_gfn)  # no longer a RAM page for get_page_from_gfn
    if pm.in_bank(host_gfn):
        pm.removed.add(host_gfn)
    alias = getattr(ctx.mem, "alias_page", None)
    if alias is None or not alias(host_gfn << PAGE_SHIFT, frame << PAGE_SHIFT):
        ctx.warn(f"the grant mapping at GFN {host_gfn:#x} is not visible to the vCPU (not a RAM page)")


def _host_unmap(ctx: HypercallContext, host_gfn: int) -> None:
    """replace_grant_host_mapping: a hole for the hypercalls; the vCPU gets its own page back."""
    unalias = getattr(ctx.mem, "unalias_page", None)
    if unalias is not None:
        unalias(host_gfn << PAGE_SHIFT)


def _unmap_one(ctx: HypercallContext, raw: bytes, replace: bool) -> int:
    host_addr, new_addr, handle, _ = UNMAP_GRANT_REF_T.unpack(raw)
    st = _state(ctx.domain)
    m = st.maps.get(handle)
    if m is None:
        return Gntst.GNTST_bad_handle
    if host_addr and m.flags & GNTMAP_host_map:
        # guest_physmap_remove_page(gfn, mfn) fails unless gfn maps the granted frame
        there = [x for x in st.maps.values() if x.host_gfn == host_addr >> PAGE_SHIFT]  # the last one wins
        if (replace and new_addr) or not there or there[-1].frame_gfn != m.frame_gfn:
            return Gntst.GNTST_general_error
        if not any(x is not m and x.host_gfn == m.host_gfn for x in st.maps.values()):
            _host_unmap(ctx, m.host_gfn)
        m.flags &= ~GNTMAP_host_map
    if not m.flags & (GNTMAP_host_map | GNTMAP_device_map):
        del st.maps[handle]
        st.free_handles.append(handle)
        _unpin(ctx, ctx.domain, m.ref, bool(m.flags & GNTMAP_readonly))
    return Gntst.GNTST_okay


def _copy_domain(ctx: HypercallContext, domid: int, is_gref: bool):
    """gnttab_copy_lock_domain: (domain, None) or (None, GNTST_*)."""
    if domid != DOMID_SELF and not is_gref:
        return None, Gntst.GNTST_permission_denied
    d = ctx.domain if domid == DOMID_SELF else ctx.find_domain(domid) if domid < DOMID_FIRST_RESERVED else None
    return (d, None) if d is not None else (None, Gntst.GNTST_bad_domain)


def _claim(ctx: HypercallContext, d, ptr: int, is_gref: bool, readonly: bool, held: list) -> int:
    """gnttab_copy_claim_buf: pins a grant (recorded in ``held``) or checks a GFN of d."""
    if is_gref:
        if ptr >= d.grant_frames * ENTRIES_PER_FRAME:
            return Gntst.GNTST_bad_gntref
        if d is not ctx.domain:
            ctx.warn("copying through another domain's grant is not modelled; answering GNTST_general_error")
            return Gntst.GNTST_general_error
        rc = _pin(ctx, d, ptr, readonly, False)
        if rc == Gntst.GNTST_okay:
            held.append((d, ptr, readonly))
        return rc
    if d is not ctx.domain:
        ctx.warn("copying another domain's frame is not modelled; answering GNTST_general_error")
        return Gntst.GNTST_general_error
    return Gntst.GNTST_okay if _page_ok(ctx, d, ptr) else Gntst.GNTST_bad_page


def _copy_one(ctx: HypercallContext, raw: bytes) -> int:
    (src, sdom, soff, dst, ddom, doff, length, flags, _) = GNTTAB_COPY_T.unpack(raw)
    sd, rc = _copy_domain(ctx, sdom, bool(flags & GNTCOPY_source_gref))
    if sd is None:
        return rc
    dd, rc = _copy_domain(ctx, ddom, bool(flags & GNTCOPY_dest_gref))
    if dd is None:
        return rc
    held: list = []
    try:
        rc = _claim(ctx, sd, src, bool(flags & GNTCOPY_source_gref), True, held)
        if rc == Gntst.GNTST_okay:
            rc = _claim(ctx, dd, dst, bool(flags & GNTCOPY_dest_gref), False, held)
        if rc != Gntst.GNTST_okay:
            return rc
        if soff + length > PAGE_SIZE or doff + length > PAGE_SIZE:
            return Gntst.GNTST_bad_copy_arg
        sgfn = _state(sd).pins[src].frame_gfn if flags & GNTCOPY_source_gref else src
        dgfn = _state(dd).pins[dst].frame_gfn if flags & GNTCOPY_dest_gref else dst
        if length:
            data = ctx.mem.read_phys((sgfn << PAGE_SHIFT) + soff, length)
            ctx.mem.write_phys((dgfn << PAGE_SHIFT) + doff, data)
        return Gntst.GNTST_okay
    finally:
        for d, ref, readonly in reversed(held):
            _unpin(ctx, d, ref, readonly)


def _batch(ctx: HypercallContext, cmd: int, uop: int, count: int, size: int, status_offset: int, one) -> int:
    for i in range(count):
        entry = uop + i * size
        if i and ctx.preempt_check():  # the rest continues with the handle advanced
            return ctx.create_continuation(Hypercall.grant_table_op, cmd, entry, count - i)
        status = one(entry, ctx.mem.copy_from_guest(entry, size))
        ctx.mem.copy_to_guest(entry + status_offset, struct.pack("<h", status))
    return 0


#: "which domain owns this frame" has no answer in the model (see _frame_owner)
_UNKNOWN = object()


def _frame_owner(ctx: HypercallContext, mfn: int):
    """page_get_owner_and_reference(mfn_to_page(mfn)) for a machine frame: the owning domain, None
    (a free page or Xen's own), or _UNKNOWN. A direct-mapped dom0's frames are its RAM bank (which it
    keeps even where its P2M no longer maps them) and its shared_info page; beside a dom0 the model
    holds no other domain. Beside a domU there is the oracle's observer dom0, whose frames are known;
    the domU's own frames are wherever Xen's allocator put them, which the model does not know."""
    from .memory_op import physmap

    d, host = ctx.domain, ctx.build.host
    if d.direct_mapped and physmap(ctx).owns_frame(mfn):
        return d
    if d.domid == 0:
        return d if mfn == host.dom0_shared_info_mfn else None
    dom0 = ctx.find_domain(0)
    if dom0 is not None and (mfn in ORACLE_DOM0_FRAMES or mfn == host.dom0_shared_info_mfn):
        return dom0
    return _UNKNOWN


def _cache_flush_one(ctx: HypercallContext, raw: bytes, cur_ref: int) -> tuple[int, int]:
    """_cache_flush: (0, 1 or -errno, cur_ref). 1 means the scan of the owner's grants for one the
    caller maps stopped at cur_ref and goes on from there."""
    addr, offset, length, op = CACHE_FLUSH_T.unpack(raw)
    if offset >= PAGE_SIZE or length > PAGE_SIZE or offset + length > PAGE_SIZE or \
            op & ~(GNTTAB_CACHE_INVAL | GNTTAB_CACHE_CLEAN):
        return -Errno.EINVAL, cur_ref  # GNTTAB_CACHE_SOURCE_GREF too: Xen's -EOPNOTSUPP for it is unreachable
    if length == 0 or op == 0:
        return (-Errno.EILSEQ if cur_ref else 0), cur_ref
    mfn = addr >> PAGE_SHIFT
    owner = _frame_owner(ctx, mfn)
    host = ctx.build.host
    if owner is not ctx.domain and not host.max_mfn + 1 - host.total_pages <= mfn <= host.max_mfn:
        return -Errno.EINVAL, cur_ref  # !mfn_valid: not the host's RAM
    if owner is _UNKNOWN:
        ctx.warn(f"GNTTABOP_cache_flush: the owner of machine frame {mfn:#x} is not modelled for "
                 f"d{ctx.domain.domid}; answering -EPERM as for a page without one")
        return -Errno.EPERM, cur_ref
    if owner is None:
        return -Errno.EPERM, cur_ref
    if owner is not ctx.domain:
        # grant_map_exists: the owner's active grants from cur_ref on, GNTTAB_CONTINUATION_ARG_SHIFT
        # entries at a time, for one the caller maps at mfn; the model holds no mapping of another
        # domain's grant (map_grant_ref refuses them), so none is found
        entries = owner.grant_frames * ENTRIES_PER_FRAME
        ref = max(cur_ref, min(cur_ref + GNTTAB_SCAN_CHUNK, entries))
        return (1, ref) if ref < entries else (-Errno.EINVAL, cur_ref)
    return 0, cur_ref  # clean and/or invalidate the range: nothing to do in an emulator


def gnttab_cache_flush(ctx: HypercallContext, cmd: int, uop: int, count: int, cur_ref: int) -> int:
    """gnttab_cache_flush and its continuation in do_grant_table_op: preempted between entries, the
    rest goes on with the handle advanced; preempted inside an entry's scan, cur_ref rides in the
    upper bits of cmd. An error ends the batch; cur_ref is 0 again once an entry is done."""
    for i in range(count):
        entry = uop + i * CACHE_FLUSH_T.size
        if i and ctx.preempt_check():
            return ctx.create_continuation(Hypercall.grant_table_op, cmd, entry, count - i)
        raw = ctx.mem.copy_from_guest(entry, CACHE_FLUSH_T.size)
        while True:
            rc, cur_ref = _cache_flush_one(ctx, raw, cur_ref)
            if rc < 0:
                return rc
            if rc == 0:
                break
            if ctx.preempt_check():
                return ctx.create_continuation(Hypercall.grant_table_op, cmd | cur_ref, entry, count - i)
        cur_ref = 0
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
        return _batch(ctx, cmd, uop, count, MAP_GRANT_REF_T.size, MAP_STATUS_OFFSET, lambda e, raw: _map_one(ctx, e, raw))
    if cmd in (GnttabOp.GNTTABOP_unmap_grant_ref, GnttabOp.GNTTABOP_unmap_and_replace):
        replace = cmd == GnttabOp.GNTTABOP_unmap_and_replace
        return _batch(ctx, cmd, uop, count, UNMAP_GRANT_REF_T.size, UNMAP_STATUS_OFFSET,
                      lambda e, raw: _unmap_one(ctx, raw, replace))
    if cmd == GnttabOp.GNTTABOP_copy:
        return _batch(ctx, cmd, uop, count, GNTTAB_COPY_SIZE, COPY_STATUS_OFFSET, lambda e, raw: _copy_one(ctx, raw))
    if cmd == GnttabOp.GNTTABOP_cache_flush:
        return gnttab_cache_flush(ctx, cmd, uop, count, opaque)
    if cmd in (GnttabOp.GNTTABOP_transfer, GnttabOp.GNTTABOP_swap_grant_ref):
        if count == 0:
            return 0
        ctx.warn(f"{GnttabOp(cmd).name} is not modelled yet; answering -ENOSYS")
        return -Errno.ENOSYS
    return -Errno.ENOSYS


HANDLER = Handler(Hypercall.grant_table_op, do_grant_table_op, GnttabOp)
