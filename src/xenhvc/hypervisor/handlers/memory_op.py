"""do_memory_op (xen/common/memory.c) with Arm's xenmem_add_to_physmap_one and arch_memory_op
(xen/arch/arm/mm.c) and the grant-frame lookup of gnttab_map_frame_begin (xen/common/grant_table.c).

The model's P2M is the one RAM bank plus :class:`Physmap`: RAM-bank GFNs the guest removed, GFNs
populated outside the bank (accounting only: the CPU layer has no memory there), and the xenheap
pages (shared_info, grant frames) mapped at GFNs. A removed RAM page stays readable through the
CPU layer; only the hypercall interfaces see the hole.

Host-dependent values, as on the oracle (QEMU virt -m 1024, RAM 0x40000000-0x80000000,
cortex-a57 with a 44-bit PA range, no IOMMU, dom0_mem=128M): ``max_page`` = 0x80000, IPA size 44
bits, dom0's highest mapped GFN is the end of QEMU's high PCIe MMIO window (0xFF_FFFF_FFFF),
mapped into dom0 with the host bridge.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass, field
from enum import IntEnum

from ...abi.errno import Errno
from ...abi.hypercalls import Hypercall
from ..context import GuestFault, HypercallContext
from . import Handler

MEMOP_EXTENT_SHIFT = 6
MEMOP_CMD_MASK = (1 << MEMOP_EXTENT_SHIFT) - 1
UINT_MAX = 0xFFFFFFFF
PAGE_SHIFT = 12
PAGE_SIZE = 1 << PAGE_SHIFT
INVALID_GFN = (1 << 64) - 1
#: host: the last RAM frame + 1 (setup_mm), the IPA size (p2m_ipa_bits), dom0's highest MMIO GFN
HOST_MAX_PAGE = 0x80000
P2M_IPA_BITS = 44
DOM0_MAX_MAPPED_GFN = 0xFF_FFFF_FFFF >> PAGE_SHIFT
#: CONFIG_PAGEALLOC_MAX_ORDER, CONFIG_DOMU_MAX_ORDER, CONFIG_HWDOM_MAX_ORDER (arm asm/config.h)
MAX_ORDER = 18
DOMU_MAX_ORDER = 9
#: opt_max_grant_frames; dom0's gnttab_dom0_frames() is min(64, Xen's text pages) = 64
MAX_GRANT_FRAMES = 64
INITIAL_NR_GRANT_FRAMES = 1
XENMAPIDX_grant_table_status = 0x80000000
NUMA_NO_NODE = 0xFF
MAX_NUMNODES = 1  # no CONFIG_NUMA on 4.17 Arm
XENMEMF_populate_on_demand = 1 << 16
XENMEMF_exact_node_request = 1 << 17
XENMEMF_vnode = 1 << 18


class MemoryOp(IntEnum):
    XENMEM_increase_reservation = 0
    XENMEM_decrease_reservation = 1
    XENMEM_maximum_ram_page = 2
    XENMEM_current_reservation = 3
    XENMEM_maximum_reservation = 4
    XENMEM_machphys_mfn_list = 5
    XENMEM_populate_physmap = 6
    XENMEM_add_to_physmap = 7
    XENMEM_memory_map = 9
    XENMEM_machine_memory_map = 10
    XENMEM_exchange = 11
    XENMEM_machphys_mapping = 12
    XENMEM_set_memory_map = 13
    XENMEM_maximum_gpfn = 14
    XENMEM_remove_from_physmap = 15
    XENMEM_set_pod_target = 16
    XENMEM_get_pod_target = 17
    XENMEM_get_sharing_freed_pages = 18
    XENMEM_get_sharing_shared_pages = 19
    XENMEM_paging_op = 20
    XENMEM_access_op = 21
    XENMEM_sharing_op = 22
    XENMEM_add_to_physmap_batch = 23
    XENMEM_claim_pages = 24
    XENMEM_machphys_compat_mfn_list = 25
    XENMEM_get_vnumainfo = 26
    XENMEM_reserved_device_memory_map = 27
    XENMEM_acquire_resource = 28


class MapSpace(IntEnum):
    XENMAPSPACE_shared_info = 0
    XENMAPSPACE_grant_table = 1
    XENMAPSPACE_gmfn = 2
    XENMAPSPACE_gmfn_range = 3
    XENMAPSPACE_gmfn_foreign = 4
    XENMAPSPACE_dev_mmio = 5


xen_memory_reservation = struct.Struct("<QQIIH6x")  # extent_start, nr_extents, extent_order, mem_flags, domid
xen_memory_domain = struct.Struct("<H")
xen_add_to_physmap = struct.Struct("<HHIQQ")  # domid, size, space, idx, gpfn
xen_add_to_physmap_batch = struct.Struct("<HHHHQQQ")  # domid, space, size, u, idxs, gpfns, errs
xen_remove_from_physmap = struct.Struct("<H6xQ")  # domid, gpfn
xen_memory_exchange = struct.Struct("<32s32sQ")  # in, out, nr_exchanged
xen_mem_acquire_resource = struct.Struct("<HHIIIQQ")  # domid, type, id, nr_frames, pad, frame, frame_list
xen_mem_access_op = struct.Struct("<BBHIQQQ")  # op, access, domid, nr, pfn, pfn_list, access_list
xen_vnuma_topology_info = struct.Struct("<HHIII24x")  # domid, pad, nr_vnodes, nr_vcpus, nr_vmemranges, 3 handles
xen_reserved_device_memory_map = struct.Struct("<IIQ8x")  # flags, nr_entries, buffer, dev


@dataclass
class Physmap:
    """The P2M beyond the RAM bank, and the domain's page accounting."""

    ram_start: int  # first GFN of the RAM bank
    ram_end: int  # GFN after it
    tot_pages: int
    max_pages: int
    direct_mapped: bool
    max_mapped_gfn: int
    removed: set[int] = field(default_factory=set)
    extra: set[int] = field(default_factory=set)
    #: xenheap pages mapped in the P2M: gfn -> ("shared_info", 0) or ("grant", frame index)
    xenheap: dict[int, tuple[str, int]] = field(default_factory=dict)
    outstanding_pages: int = 0

    def in_bank(self, gfn: int) -> bool:
        return self.ram_start <= gfn < self.ram_end

    def is_ram(self, gfn: int) -> bool:
        """get_page_from_gfn finds a RAM page of the domain (its own or a xenheap page it maps)."""
        return gfn in self.xenheap or gfn in self.extra or (self.in_bank(gfn) and gfn not in self.removed)

    def owns_frame(self, gfn: int) -> bool:
        """Direct-mapped dom0: the page at MFN == gfn belongs to it (decrease_reservation keeps it)."""
        return self.in_bank(gfn)


def _ram_bank(ctx: HypercallContext) -> tuple[int, int]:
    bank = getattr(ctx, "ram_bank", None)
    if callable(bank):
        return bank()
    mem = ctx.mem
    if hasattr(mem, "bank"):
        return mem.bank.base, mem.bank.size
    if hasattr(mem, "base") and hasattr(mem, "ram"):
        return mem.base, len(mem.ram)
    return 0, 0


def physmap(ctx: HypercallContext) -> Physmap:
    d = ctx.domain
    if d.physmap is None:
        base, size = _ram_bank(ctx)
        pages = ctx.memory_pages() or size >> PAGE_SHIFT
        start, end = base >> PAGE_SHIFT, (base + size) >> PAGE_SHIFT
        d.physmap = Physmap(start, end, pages, pages, d.direct_mapped,
                            DOM0_MAX_MAPPED_GFN if d.privileged else max(end - 1, 0))
    return d.physmap


def guest_page_ok(ctx: HypercallContext, gfn: int) -> bool:
    """get_page_from_gfn(d, gfn, P2M_ALLOC) + get_page_type(PGT_writable_page) succeed."""
    return physmap(ctx).is_ram(gfn) and ctx.mem.is_ram(gfn << PAGE_SHIFT, PAGE_SIZE) or gfn in physmap(ctx).xenheap


def _max_order(ctx: HypercallContext) -> int:
    return MAX_ORDER if ctx.domain.privileged else DOMU_MAX_ORDER


def _p2m_ok(gfn: int, order: int = 0) -> bool:
    """p2m_get_root_pointer: the GFN range fits the IPA size."""
    return gfn + (1 << order) - 1 < 1 << (P2M_IPA_BITS - PAGE_SHIFT)


# -- P2M changes ---------------------------------------------------------------------------------------
def _unmap_xenheap(ctx: HypercallContext, pm: Physmap, gfn: int) -> None:
    kind, idx = pm.xenheap.pop(gfn)
    if kind == "shared_info":
        ctx.domain.shared_info.unmap(ctx.mem)
    else:
        ctx.domain.grant_frame_gfns.pop(idx, None)


def _map_ram(ctx: HypercallContext, pm: Physmap, gfn: int, order: int) -> None:
    for g in range(gfn, gfn + (1 << order)):
        if g in pm.xenheap:
            _unmap_xenheap(ctx, pm, g)
        if pm.in_bank(g):
            pm.removed.discard(g)
        else:
            pm.extra.add(g)
    pm.max_mapped_gfn = max(pm.max_mapped_gfn, gfn + (1 << order) - 1)


def _remove(ctx: HypercallContext, pm: Physmap, gfn: int) -> None:
    """guest_physmap_remove_page of a RAM or xenheap page."""
    if gfn in pm.xenheap:
        _unmap_xenheap(ctx, pm, gfn)
        if pm.in_bank(gfn):
            pm.removed.add(gfn)  # the RAM page it replaced is not mapped back
    elif gfn in pm.extra:
        pm.extra.discard(gfn)
    else:
        pm.removed.add(gfn)


def _map_xenheap(ctx: HypercallContext, pm: Physmap, gfn: int, what: tuple[str, int]) -> int:
    if not _p2m_ok(gfn):
        return -Errno.EINVAL
    if gfn in pm.xenheap:
        _unmap_xenheap(ctx, pm, gfn)  # p2m_set_entry replaces the old entry (and forgets its xenheap GFN)
    pm.xenheap[gfn] = what
    if pm.in_bank(gfn):
        pm.removed.discard(gfn)
    pm.max_mapped_gfn = max(pm.max_mapped_gfn, gfn)
    if what[0] == "shared_info":
        ctx.domain.shared_info.map(ctx.mem, gfn)
    else:
        ctx.domain.grant_frame_gfns[what[1]] = gfn
        if ctx.mem.is_ram(gfn << PAGE_SHIFT, PAGE_SIZE):
            ctx.mem.write_phys(gfn << PAGE_SHIFT, bytes(PAGE_SIZE))  # a fresh grant frame is zeroed
    return 0


def add_to_physmap_one(ctx: HypercallContext, space: int, idx: int, gfn: int) -> int:
    """xenmem_add_to_physmap_one (Arm)."""
    pm = physmap(ctx)
    if space == MapSpace.XENMAPSPACE_grant_table:
        d = ctx.domain
        if d.grant_version == 2 and idx & XENMAPIDX_grant_table_status:
            return -Errno.EINVAL  # status frames are not modelled (v2 is not reachable yet)
        idx &= UINT_MAX  # gnttab_get_shared_frame_mfn takes an unsigned int
        if idx >= d.grant_frames:
            nr = (idx + 1) & UINT_MAX
            if nr == 0:
                return -Errno.EINVAL
            if nr <= MAX_GRANT_FRAMES:
                d.grant_frames = nr  # gnttab_grow_table
            if idx >= d.grant_frames:
                return -Errno.EINVAL
        if idx in d.grant_frame_gfns:
            return -Errno.EBUSY  # already mapped: unmap it first (4.17)
        return _map_xenheap(ctx, pm, gfn, ("grant", idx))
    if space == MapSpace.XENMAPSPACE_shared_info:
        if idx != 0:
            return -Errno.EINVAL
        if ctx.domain.shared_info.gfn is not None:
            return -Errno.EBUSY
        return _map_xenheap(ctx, pm, gfn, ("shared_info", 0))
    if space == MapSpace.XENMAPSPACE_gmfn_foreign:
        return -Errno.ESRCH  # get_pg_owner(DOMID_INVALID)
    if space == MapSpace.XENMAPSPACE_dev_mmio:
        if not _p2m_ok(gfn):
            return -Errno.EINVAL
        pm.max_mapped_gfn = max(pm.max_mapped_gfn, gfn)
        return 0  # map_dev_mmio_page: mapped, or silently skipped without iomem permission
    return -Errno.ENOSYS


def _target(ctx: HypercallContext, domid: int) -> int:
    """rcu_lock_domain_by_any_id + an XSM_TARGET check: 0, -ESRCH or -EPERM."""
    d = ctx.find_domain(domid)
    if d is None:
        return -Errno.ESRCH
    if d is not ctx.domain and not ctx.domain.privileged:
        return -Errno.EPERM
    return 0


def _permission(ctx: HypercallContext, domid: int, space: int) -> int:
    """rcu_lock_domain_by_any_id + xatp_permission_check; 0 or -errno."""
    d = ctx.find_domain(domid)
    if d is None:
        return -Errno.ESRCH
    if space == MapSpace.XENMAPSPACE_dev_mmio and (not d.privileged or d is not ctx.domain):
        return -Errno.EACCES
    return _target(ctx, domid)


def add_to_physmap(ctx: HypercallContext, arg: int, start: int) -> int:
    if start > 0xFFFF:
        return -Errno.EDOM
    domid, size, space, idx, gpfn = ctx.read_struct(arg, xen_add_to_physmap)
    if space == MapSpace.XENMAPSPACE_gmfn_foreign:
        return -Errno.ENOSYS
    rc = _permission(ctx, domid, space)
    if rc:
        return rc
    if gpfn == INVALID_GFN:
        return -Errno.EINVAL
    if space != MapSpace.XENMAPSPACE_gmfn_range:
        rc = add_to_physmap_one(ctx, space, idx, gpfn)
    elif size < start:
        rc = -Errno.EILSEQ
    elif gpfn + size > INVALID_GFN or idx + size > INVALID_GFN:
        rc = -Errno.EOVERFLOW
    else:  # each page goes through XENMAPSPACE_gmfn, which Arm does not have
        rc = -Errno.ENOSYS if size > start else 0
    if rc == 0 and space in (MapSpace.XENMAPSPACE_shared_info, MapSpace.XENMAPSPACE_grant_table):
        ctx.notes.append(f"gfn={gpfn:#x}")
    return rc


def add_to_physmap_batch(ctx: HypercallContext, arg: int, start: int) -> int:
    if start > 0xFFFF:
        return -Errno.EDOM
    domid, space, size, u, idxs, gpfns, errs = ctx.read_struct(arg, xen_add_to_physmap_batch)
    if space == MapSpace.XENMAPSPACE_gmfn_range:
        return -Errno.EOPNOTSUPP
    rc = _permission(ctx, domid, space)
    if rc:
        return rc
    if size < start:
        return -Errno.EILSEQ
    if size == start:
        return -Errno.EILSEQ if start else 0
    if space == MapSpace.XENMAPSPACE_dev_mmio and u:
        return -Errno.EOPNOTSUPP
    for i in range(start, size):
        try:
            (idx,) = struct.unpack("<Q", ctx.mem.copy_from_guest(idxs + 8 * i, 8))
            (gpfn,) = struct.unpack("<Q", ctx.mem.copy_from_guest(gpfns + 8 * i, 8))
        except GuestFault:
            return -Errno.EFAULT
        if gpfn == INVALID_GFN:
            return -Errno.EINVAL
        if space == MapSpace.XENMAPSPACE_gmfn_foreign:
            rc = -Errno.ESRCH if ctx.find_domain(u) is None else -Errno.EINVAL  # od == d
        else:
            rc = add_to_physmap_one(ctx, space, idx, gpfn)
        try:
            ctx.mem.copy_to_guest(errs + 4 * i, struct.pack("<i", rc))
        except GuestFault:
            return -Errno.EFAULT
    return 0


def remove_from_physmap(ctx: HypercallContext, arg: int) -> int:
    domid, gpfn = ctx.read_struct(arg, xen_remove_from_physmap)
    rc = _target(ctx, domid)
    if rc:
        return rc
    pm = physmap(ctx)
    if not pm.is_ram(gpfn):
        return -Errno.ENOENT
    _remove(ctx, pm, gpfn)
    return 0


# -- reservations -----------------------------------------------------------------------------------
def _memflags_ok(ctx: HypercallContext, mem_flags: int) -> tuple[bool, bool]:
    """construct_memop_from_reservation: (valid, allocations restricted below RAM)."""
    bits = mem_flags & 0xFF
    threshold = (HOST_MAX_PAGE - 1).bit_length() + PAGE_SHIFT  # get_order_from_pages(max_page) + PAGE_SHIFT
    restricted = False
    if bits and bits < threshold:
        if bits <= PAGE_SHIFT:
            return False, False
        restricted = True  # MEMF_bits: the host has no RAM below 2^bits
    if not mem_flags & XENMEMF_vnode:  # d->vnuma is NULL: the vnode case checks nothing
        node = ((mem_flags >> 8) - 1) & 0xFF
        if node != NUMA_NO_NODE:
            if ctx.domain.privileged:
                if node >= MAX_NUMNODES:
                    return False, False
            elif mem_flags & XENMEMF_exact_node_request:
                return False, False
    return True, restricted


def _alloc(pm: Physmap, order: int, restricted: bool) -> bool:
    """alloc_domheap_pages for the domain: within max_pages and host RAM."""
    if restricted or pm.tot_pages + (1 << order) > pm.max_pages:
        return False
    pm.tot_pages += 1 << order
    return True


def _continue(ctx: HypercallContext, op: int, done: int, arg: int) -> int:
    """Preempted after ``done`` extents: the call goes on from there (``cmd | done << 6``)."""
    return ctx.create_continuation(Hypercall.memory_op, op | (done << MEMOP_EXTENT_SHIFT), arg)


def reservation(ctx: HypercallContext, op: int, arg: int, start: int) -> int:
    try:
        extent_start, nr_extents, order, mem_flags, domid = ctx.read_struct(arg, xen_memory_reservation)
    except GuestFault:
        return start
    if nr_extents > UINT_MAX >> MEMOP_EXTENT_SHIFT or start >= nr_extents:
        return start
    if _target(ctx, domid):
        return start  # no such domain, or XSM_TARGET refuses
    ok, restricted = _memflags_ok(ctx, mem_flags)
    if not ok:
        return start
    pod = op == MemoryOp.XENMEM_populate_physmap and mem_flags & XENMEMF_populate_on_demand
    pm = physmap(ctx)
    done = start
    if op == MemoryOp.XENMEM_increase_reservation:
        if order > _max_order(ctx):
            return start
        while done < nr_extents:
            if done != start and ctx.preempt_check():
                return _continue(ctx, op, done, arg)
            if not _alloc(pm, order, restricted):
                break
            done += 1  # a translated guest is not told the frames
        return done
    if order > (MAX_ORDER if pod else _max_order(ctx)):
        return start
    for i in range(start, nr_extents):
        if i != start and ctx.preempt_check():
            return _continue(ctx, op, i, arg)
        try:
            (gfn,) = struct.unpack("<Q", ctx.mem.copy_from_guest(extent_start + 8 * i, 8))
        except GuestFault:
            return i
        if op == MemoryOp.XENMEM_decrease_reservation:
            for g in range(gfn, gfn + (1 << order)):
                if not pm.is_ram(g):
                    return i  # guest_remove_page: no valid MFN there
                was_xenheap = g in pm.xenheap
                _remove(ctx, pm, g)
                if not pm.direct_mapped and not was_xenheap:
                    pm.tot_pages -= 1  # the page is freed (direct-mapped dom0 keeps it)
            continue
        if pod:
            return i  # populate-on-demand on oneself is refused
        if pm.direct_mapped:
            if not all(pm.owns_frame(g) for g in range(gfn, gfn + (1 << order))):
                return i
        elif not _alloc(pm, order, restricted):
            return i
        if not _p2m_ok(gfn, order):
            return i
        _map_ram(ctx, pm, gfn, order)
    return nr_extents


# -- the rest ---------------------------------------------------------------------------------------
def exchange(ctx: HypercallContext, arg: int) -> int:
    raw = ctx.mem.copy_from_guest(arg, xen_memory_exchange.size)
    in_r, out_r, nr_exchanged = xen_memory_exchange.unpack(raw)
    _, in_nr, in_order, _, in_dom = xen_memory_reservation.unpack(in_r)
    _, out_nr, out_order, _, out_dom = xen_memory_reservation.unpack(out_r)
    mask = (1 << 64) - 1

    def fail_early(rc: int) -> int:
        ctx.mem.copy_to_guest(arg + 64, struct.pack("<Q", nr_exchanged))
        return rc

    if max(in_order, out_order) > _max_order(ctx):
        return fail_early(-Errno.EPERM)
    if nr_exchanged > in_nr or in_dom != out_dom or (mask >> (in_order & 63)) < in_nr or \
            (mask >> (out_order & 63)) < out_nr or \
            ((in_nr << (in_order & 63)) & mask) != ((out_nr << (out_order & 63)) & mask):
        return fail_early(-Errno.EINVAL)
    if nr_exchanged == in_nr:
        return 0
    rc = _target(ctx, in_dom)
    if rc:
        return fail_early(rc)
    # the exchange itself: a translated guest gets new pages at the same GFNs; the model's
    # accounting does not change
    ctx.mem.copy_to_guest(arg + 64, struct.pack("<Q", in_nr))
    return 0


def domain_stat(ctx: HypercallContext, op: int, arg: int) -> int:
    (domid,) = ctx.read_struct(arg, xen_memory_domain)
    rc = _target(ctx, domid)
    if rc:
        return rc
    pm = physmap(ctx)
    if op == MemoryOp.XENMEM_current_reservation:
        return pm.tot_pages
    if op == MemoryOp.XENMEM_maximum_reservation:
        return pm.max_pages
    return pm.max_mapped_gfn


def claim_pages(ctx: HypercallContext, arg: int) -> int:
    extent_start, nr_extents, order, mem_flags, domid = ctx.read_struct(arg, xen_memory_reservation)
    if extent_start or order or mem_flags:
        return -Errno.EINVAL
    d = ctx.find_domain(domid) if domid != 0x7FF0 else None  # rcu_lock_domain_by_id: no DOMID_SELF
    if d is None:
        return -Errno.EINVAL
    if not ctx.domain.privileged:
        return -Errno.EPERM  # XSM_PRIV
    pm = physmap(ctx)
    if nr_extents == 0:
        pm.outstanding_pages = 0
        return 0
    if pm.outstanding_pages or nr_extents <= pm.tot_pages or nr_extents > pm.max_pages:
        return -Errno.EINVAL
    pm.outstanding_pages = nr_extents - pm.tot_pages
    return 0


def remote_domain(ctx: HypercallContext, domid: int) -> int:
    """rcu_lock_remote_domain_by_id (-EPERM for oneself, -ESRCH for none) then XSM_DM_PRIV: no
    domain here is another's device model, so only the control domain gets further, where the model
    stops (no ioreq servers, no vm_event ring: -EINVAL/-ENODEV territory is not reached)."""
    d = ctx.find_domain(domid) if domid != 0x7FF0 else None
    if d is None:
        return -Errno.ESRCH
    if d is ctx.domain or not ctx.domain.privileged:
        return -Errno.EPERM
    return -Errno.EINVAL


def do_memory_op(ctx: HypercallContext, cmd: int, arg: int) -> int:
    start = cmd >> MEMOP_EXTENT_SHIFT
    op = cmd & MEMOP_CMD_MASK
    if op in (MemoryOp.XENMEM_increase_reservation, MemoryOp.XENMEM_decrease_reservation,
              MemoryOp.XENMEM_populate_physmap):
        return reservation(ctx, op, arg, start)  # an extent count, never an errno
    if op == MemoryOp.XENMEM_add_to_physmap:
        return add_to_physmap(ctx, arg, start)
    if op == MemoryOp.XENMEM_add_to_physmap_batch:
        return add_to_physmap_batch(ctx, arg, start)
    if op == MemoryOp.XENMEM_access_op:
        (domid,) = struct.unpack_from("<H", ctx.mem.copy_from_guest(arg, xen_mem_access_op.size), 2)
        return remote_domain(ctx, domid)
    if op == MemoryOp.XENMEM_acquire_resource:
        domid, _, _, nr_frames, pad, frame, _ = ctx.read_struct(arg, xen_mem_acquire_resource)
        if pad or frame >> 32 or (frame + nr_frames) >> 32:
            return -Errno.EINVAL
        return remote_domain(ctx, domid)
    if op in (MemoryOp.XENMEM_exchange, MemoryOp.XENMEM_maximum_ram_page, MemoryOp.XENMEM_current_reservation,
              MemoryOp.XENMEM_maximum_reservation, MemoryOp.XENMEM_maximum_gpfn, MemoryOp.XENMEM_remove_from_physmap,
              MemoryOp.XENMEM_claim_pages, MemoryOp.XENMEM_get_vnumainfo,
              MemoryOp.XENMEM_reserved_device_memory_map) and start:
        return -Errno.EINVAL
    if op == MemoryOp.XENMEM_exchange:
        return exchange(ctx, arg)
    if op == MemoryOp.XENMEM_maximum_ram_page:
        return HOST_MAX_PAGE
    if op in (MemoryOp.XENMEM_current_reservation, MemoryOp.XENMEM_maximum_reservation,
              MemoryOp.XENMEM_maximum_gpfn):
        return domain_stat(ctx, op, arg)
    if op == MemoryOp.XENMEM_remove_from_physmap:
        return remove_from_physmap(ctx, arg)
    if op == MemoryOp.XENMEM_claim_pages:
        return claim_pages(ctx, arg)
    if op == MemoryOp.XENMEM_get_vnumainfo:
        domid, pad, _, _, _ = ctx.read_struct(arg, xen_vnuma_topology_info)
        if pad:
            return -Errno.EINVAL
        return _target(ctx, domid) or -Errno.EOPNOTSUPP  # no vNUMA on Arm
    if op == MemoryOp.XENMEM_reserved_device_memory_map:
        raw = ctx.mem.copy_from_guest(arg, xen_reserved_device_memory_map.size)
        flags, _, _ = xen_reserved_device_memory_map.unpack(raw)
        if flags & ~1:
            return -Errno.EINVAL
        out = bytearray(raw)
        struct.pack_into("<I", out, 4, 0)  # no IOMMU: no reserved regions
        ctx.mem.copy_to_guest(arg, bytes(out))
        return 0
    # arch_memory_op(int op): the whole cmd, truncated to int
    arch_op = cmd & 0xFFFFFFFF
    if arch_op in (MemoryOp.XENMEM_get_sharing_freed_pages, MemoryOp.XENMEM_get_sharing_shared_pages):
        return 0
    return -Errno.ENOSYS


HANDLER = Handler(Hypercall.memory_op, do_memory_op, MemoryOp)
