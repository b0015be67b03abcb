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
XEN_SYSCTL_sched_id = 4
XEN_SCHEDULER_CREDIT2 = 6  # Xen 4.17's default scheduler
xenpf_settime64 = struct.Struct("<IIQQ")  # mbz, nsecs, secs, system_time


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
# struct xen_domctl_getdomaininfo up to arch_config (Arm: gic_version, tee_type, nr_spis, clock_frequency)
domctl_getdomaininfo = struct.Struct("<HHI7QIII16sIB7xB1xHII")


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


def _getdomaininfo(ctx: HypercallContext, d) -> bytes:
    flags = XEN_DOMINF_hvm_guest | XEN_DOMINF_hap | (d.shutdown_code << XEN_DOMINF_shutdownshift)
    flags |= XEN_DOMINF_shutdown if d.is_shutting_down else XEN_DOMINF_running
    pages = ctx.memory_pages()
    return domctl_getdomaininfo.pack(d.domid, 0, flags, pages, pages, 0, 0, 0, 0, 0, 1, 0, 0, d.handle, 0,
                                     40, 3, 0, 0, 0)


HANDLERS = [
    Handler(Hypercall.platform_op, do_platform_op),
    Handler(Hypercall.sysctl, do_sysctl),
    Handler(Hypercall.domctl, do_domctl),
]
