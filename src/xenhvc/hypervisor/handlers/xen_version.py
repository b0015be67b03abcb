"""do_xen_version (xen/common/kernel.c) with the dummy/SILO XSM checks (xen/include/xsm/dummy.h)."""
from __future__ import annotations

from ...abi import structs
from ...abi.errno import Errno
from ...abi.hypercalls import Hypercall
from ...abi.version import (COMPILE_INFO_FIELDS, XEN_CAPABILITIES_INFO_LEN, XEN_CHANGESET_INFO_LEN,
                            XEN_COMMANDLINE_LEN, XEN_DENY, XEN_DOMAIN_HANDLE_LEN, XEN_EXTRAVERSION_LEN,
                            XenFeat, XenVer)
from ...abi.xen import XEN_PAGE_SIZE
from ..context import HypercallContext
from . import Handler

#: sub-ops any domain may use (XSM_HOOK) or that skip XSM entirely; the rest need XSM_PRIV
_UNCHECKED = {XenVer.XENVER_version, XenVer.XENVER_platform_parameters, XenVer.XENVER_get_features}
_HOOK = {XenVer.XENVER_extraversion, XenVer.XENVER_compile_info, XenVer.XENVER_capabilities,
         XenVer.XENVER_changeset, XenVer.XENVER_pagesize, XenVer.XENVER_guest_handle}


def _cstr(text: str, size: int) -> bytes:
    """safe_strcpy into a zeroed char[size]."""
    raw = text.encode()[: size - 1]
    return raw + bytes(size - len(raw))


def feature_submap0(ctx: HypercallContext) -> int:
    d = ctx.domain
    submap = 1 << XenFeat.XENFEAT_memory_op_vnode_supported
    submap |= (1 << XenFeat.XENFEAT_writable_page_tables) | (1 << XenFeat.XENFEAT_auto_translated_physmap)
    if d.privileged:
        submap |= 1 << XenFeat.XENFEAT_dom0
    submap |= 1 << XenFeat.XENFEAT_ARM_SMCCC_supported
    submap |= 1 << (XenFeat.XENFEAT_direct_mapped if d.direct_mapped else XenFeat.XENFEAT_not_direct_mapped)
    return submap


def do_xen_version(ctx: HypercallContext, cmd: int, arg: int) -> int:
    build = ctx.build
    deny = not (cmd in _UNCHECKED or cmd in _HOOK or ctx.domain.privileged)
    put = ctx.mem.copy_to_guest

    if cmd == XenVer.XENVER_version:
        return build.version
    if cmd == XenVer.XENVER_extraversion:
        put(arg, _cstr(XEN_DENY if deny else build.extraversion, XEN_EXTRAVERSION_LEN))
        return 0
    if cmd == XenVer.XENVER_compile_info:
        fields = (build.compiler, build.compile_by, build.compile_domain, build.compile_date)
        put(arg, b"".join(_cstr(XEN_DENY if deny else f, n) for f, n in zip(fields, COMPILE_INFO_FIELDS)))
        return 0
    if cmd == XenVer.XENVER_capabilities:
        caps = "" if deny else build.capabilities
        put(arg, _cstr(caps, XEN_CAPABILITIES_INFO_LEN))
        return 0
    if cmd == XenVer.XENVER_platform_parameters:
        put(arg, structs.xen_platform_parameters.pack(build.virt_start))
        return 0
    if cmd == XenVer.XENVER_changeset:
        put(arg, _cstr(XEN_DENY if deny else build.changeset, XEN_CHANGESET_INFO_LEN))
        return 0
    if cmd == XenVer.XENVER_get_features:
        idx, _ = ctx.read_struct(arg, structs.xen_feature_info)
        if idx != 0:
            return -Errno.EINVAL
        put(arg, structs.xen_feature_info.pack(idx, feature_submap0(ctx)))
        return 0
    if cmd == XenVer.XENVER_pagesize:
        if deny:
            return 0
        return -Errno.EINVAL if arg else XEN_PAGE_SIZE
    if cmd == XenVer.XENVER_guest_handle:
        put(arg, bytes(XEN_DOMAIN_HANDLE_LEN) if deny else ctx.domain.handle)
        return 0
    if cmd == XenVer.XENVER_commandline:
        if deny:
            put(arg, XEN_DENY.encode() + b"\0")
        else:
            put(arg, _cstr(build.commandline, XEN_COMMANDLINE_LEN))
        return 0
    if cmd == XenVer.XENVER_build_id:
        if deny:
            return -Errno.EPERM
        if arg:
            (length,) = ctx.read_struct(arg, structs.xen_build_id)
            if length == 0:
                return -Errno.EINVAL
        if not build.build_id:
            return -Errno.ENODATA
        if not arg:
            return len(build.build_id)
        if len(build.build_id) > length:
            return -Errno.ENOBUFS
        put(arg + structs.xen_build_id.size, build.build_id)
        return len(build.build_id)
    return -Errno.ENOSYS


#: XENVER_version: the version, whatever the argument, for every domain (no XSM check)
HANDLER = Handler(Hypercall.xen_version, do_xen_version, XenVer, pure_subops=frozenset({XenVer.XENVER_version}))
