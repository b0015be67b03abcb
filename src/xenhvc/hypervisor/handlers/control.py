"""The control-domain interfaces: platform_op (xen/arch/arm/platform_hypercall.c), sysctl
(xen/common/sysctl.c) and domctl (xen/common/domctl.c). Each copies in its fixed-size struct
(-EFAULT), checks interface_version (-EACCES), then XSM (dummy/SILO: XSM_PRIV, -EPERM for anyone
but the control domain). Sub-ops the model does not implement answer -ENOSYS with a warning."""
from __future__ import annotations

import struct
from enum import IntEnum

from ...abi.errno import Errno
from ...abi.hypercalls import Hypercall
from ...abi.xen import DOMID_FIRST_RESERVED, DOMID_INVALID, DOMID_IO
from ..context import HypercallContext
from . import Handler

XENPF_INTERFACE_VERSION = 0x03000001
XEN_SYSCTL_INTERFACE_VERSION = 0x00000015
XEN_DOMCTL_INTERFACE_VERSION = 0x00000015
PLATFORM_OP_SIZE = SYSCTL_SIZE = 8 + 128  # cmd, interface_version, union { ...; uint8 pad[128]; }
DOMCTL_SIZE = 16 + 128  # cmd, interface_version, domid_t domain, uint16 pad[3], union
XENPF_settime64 = 62
XEN_SYSCTL_physinfo = 3
XEN_SYSCTL_sched_id = 4
XEN_SCHEDULER_CREDIT2 = 6  # Xen 4.17's default scheduler
xenpf_settime64 = struct.Struct("<IIQQ")  # mbz, nsecs, secs, system_time
# struct xen_sysctl_physinfo: threads_per_core, cores_per_socket, nr_cpus, max_cpu_id, nr_nodes,
# max_node_id, cpu_khz, capabilities, arch_capabilities, pad; total_pages, free_pages, scrub_pages,
# outstanding_pages, max_mfn; uint32 hw_cap[8]
sysctl_physinfo = struct.Struct("<10I5Q32s")
XEN_SYSCTL_PHYSCAP_hvm, XEN_SYSCTL_PHYSCAP_hap, XEN_SYSCTL_PHYSCAP_vpmu = 1 << 0, 1 << 3, 1 << 7
XEN_SYSCTL_PHYSCAP_gnttab_v1, XEN_SYSCTL_PHYSCAP_gnttab_v2 = 1 << 8, 1 << 9


class DomctlCmd(IntEnum):
    XEN_DOMCTL_createdomain = 1
    XEN_DOMCTL_destroydomain = 2
    XEN_DOMCTL_pausedomain = 3
    XEN_DOMCTL_unpausedomain = 4
    XEN_DOMCTL_getdomaininfo = 5
    XEN_DOMCTL_test_assign_device = 45
    XEN_DOMCTL_assign_device = 46
    XEN_DOMCTL_deassign_device = 47
    XEN_DOMCTL_vm_event_op = 51


XEN_DOMINF_hvm_guest, XEN_DOMINF_shutdown, XEN_DOMINF_running, XEN_DOMINF_hap = 1 << 1, 1 << 2, 1 << 5, 1 << 8
XEN_DOMINF_shutdownshift = 16
# struct xen_domctl_getdomaininfo (arch_config on Arm: gic_version, tee_type, nr_spis, clock_frequency;
# 120 bytes with the tail padding getdomaininfo's memset zeroes too)
domctl_getdomaininfo = struct.Struct("<HHI7QIII16sIB7xB1xHII4x")


def _header(ctx: HypercallContext, arg: int, size: int, version: int) -> tuple[bytes, int] | int:
    raw = ctx.mem.copy_from_guest(arg, size)
    cmd, interface_version = struct.unpack_from("<II", raw)
    if interface_version != version:
        return -Errno.EACCES
    return raw, cmd


def do_platform_op(ctx: HypercallContext, u_xenpf_op: int) -> int:
    hdr = _header(ctx, u_xenpf_op, PLATFORM_OP_SIZE, XENPF_INTERFACE_VERSION)
    if isinstance(hdr, int):
        return hdr
    raw, cmd = hdr
    if not ctx.domain.privileged:
        return -Errno.EPERM
    if cmd == XENPF_settime64:
        mbz, nsecs, secs, system_time = xenpf_settime64.unpack_from(raw, 8)
        if mbz:
            return -Errno.EINVAL
        ctx.domain.wallclock = (secs, nsecs, system_time)
        return 0
    return -Errno.ENOSYS


def do_sysctl(ctx: HypercallContext, u_sysctl: int) -> int:
    hdr = _header(ctx, u_sysctl, SYSCTL_SIZE, XEN_SYSCTL_INTERFACE_VERSION)
    if isinstance(hdr, int):
        return hdr
    raw, cmd = hdr
    if not ctx.domain.privileged:
        return -Errno.EPERM
    if cmd == XEN_SYSCTL_sched_id:  # the struct is copied back whole with sched_id filled in
        ctx.mem.copy_to_guest(u_sysctl, raw[:8] + struct.pack("<I", XEN_SCHEDULER_CREDIT2) + raw[12:])
        return 0
    if cmd == XEN_SYSCTL_physinfo:  # physinfo is zeroed, filled; the rest of the union kept
        pi = _physinfo(ctx)
        ctx.mem.copy_to_guest(u_sysctl, raw[:8] + pi + raw[8 + len(pi):])
        return 0
    ctx.warn(f"sysctl cmd {cmd} is not modelled yet; answering -ENOSYS")
    return -Errno.ENOSYS


def do_domctl(ctx: HypercallContext, u_domctl: int) -> int:
    hdr = _header(ctx, u_domctl, DOMCTL_SIZE, XEN_DOMCTL_INTERFACE_VERSION)
    if isinstance(hdr, int):
        return hdr
    raw, cmd = hdr
    (domid,) = struct.unpack_from("<H", raw, 8)
    if cmd == DomctlCmd.XEN_DOMCTL_createdomain:
        d = None
    elif cmd in (DomctlCmd.XEN_DOMCTL_assign_device, DomctlCmd.XEN_DOMCTL_deassign_device) and domid == DOMID_IO:
        d = None
    elif cmd in (DomctlCmd.XEN_DOMCTL_assign_device, DomctlCmd.XEN_DOMCTL_deassign_device) and domid == DOMID_INVALID:
        return -Errno.ESRCH
    elif cmd in (DomctlCmd.XEN_DOMCTL_test_assign_device, DomctlCmd.XEN_DOMCTL_vm_event_op) and domid == DOMID_INVALID:
        d = None
    else:
        d = ctx.find_domain(domid)
        if d is None and cmd != DomctlCmd.XEN_DOMCTL_getdomaininfo:
            return -Errno.ESRCH
    if cmd == DomctlCmd.XEN_DOMCTL_getdomaininfo:
        if d is None:
            if domid >= DOMID_FIRST_RESERVED:
                return -Errno.EINVAL
            d = ctx.find_domain_at_or_after(domid)
            if d is None:
                return -Errno.ESRCH
        if not ctx.domain.privileged:  # XSM_XS_PRIV: no xenstore domain here
            return -Errno.EPERM
        ctx.mem.copy_to_guest(u_domctl + 8, struct.pack("<H", d.domid))
        ctx.mem.copy_to_guest(u_domctl + 16, _getdomaininfo(ctx, d))
        return 0
    if not ctx.domain.privileged:
        return -Errno.EPERM
    ctx.warn(f"domctl cmd {cmd} is not modelled yet; answering -ENOSYS")
    return -Errno.ENOSYS


def _physinfo(ctx: HypercallContext) -> bytes:
    """xen/common/sysctl.c XEN_SYSCTL_physinfo with arch_do_physinfo (Arm: hvm and hap) on the
    oracle's machine (XenBuild.host): no IOMMU, no vmtrace, a usable vPMU, gnttab_max_version 1
    (Arm's default). free_pages changes from boot to boot; the model answers the host's RAM less
    the running domain's."""
    host = ctx.build.host
    caps = XEN_SYSCTL_PHYSCAP_hvm | XEN_SYSCTL_PHYSCAP_hap | XEN_SYSCTL_PHYSCAP_gnttab_v1
    if host.vpmu:
        caps |= XEN_SYSCTL_PHYSCAP_vpmu
    free_pages = max(host.total_pages - ctx.memory_pages(), 0)
    return sysctl_physinfo.pack(host.threads_per_core, host.cores_per_socket, host.nr_cpus, host.nr_cpus - 1,
                                host.nr_nodes, host.max_node_id, host.cpu_khz, caps, 0, 0,
                                host.total_pages, free_pages, 0, 0, host.max_mfn, bytes(32))


def _getdomaininfo(ctx: HypercallContext, d) -> bytes:
    """xen/common/domctl.c getdomaininfo + arch_get_domain_info: zeroed, then the fields; Arm adds
    HAP and gpaddr_bits (p2m_ipa_bits) and leaves arch_config zero. shutdown_code is an unsigned
    int, ~0u until latched, so the flags read 0xffff0000 in its bits 16-31 then."""
    flags = XEN_DOMINF_hvm_guest | XEN_DOMINF_hap | (d.shutdown_code << XEN_DOMINF_shutdownshift)
    flags |= XEN_DOMINF_shutdown if d.is_shutting_down else XEN_DOMINF_running
    flags &= 0xFFFFFFFF
    pages = ctx.memory_pages()
    host = ctx.build.host
    # shared_info's MFN is only known for dom0 (the oracle shows nothing else)
    shared_info_frame = host.dom0_shared_info_mfn if d.domid == 0 else 0
    cpu_time = max(ctx.now_ns(), 1) if d is ctx.domain else 0  # its one vCPU has run since boot
    return domctl_getdomaininfo.pack(d.domid, 0, flags, pages, pages, 0, 0, 0, shared_info_frame, cpu_time,
                                     1, 0, 0, d.handle, 0, host.ipa_bits, 0, 0, 0, 0)


HANDLERS = [
    Handler(Hypercall.platform_op, do_platform_op),
    Handler(Hypercall.sysctl, do_sysctl),
    Handler(Hypercall.domctl, do_domctl),
]
