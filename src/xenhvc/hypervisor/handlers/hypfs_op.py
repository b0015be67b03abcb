"""do_hypfs_op (xen/common/hypfs.c) over the /buildinfo part of Xen's hypervisor file system
(xen/common/kernel.c). Directories, /buildinfo/config (gzip'ed .config), /params and /cpupool
exist in real Xen but are not modelled: reading them answers -ENOSYS with a warning."""
from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import IntEnum

from ...abi.errno import Errno
from ...abi.hypercalls import Hypercall
from ..build import XenBuild
from ..context import HypercallContext
from . import Handler

XEN_HYPFS_VERSION = 1
XEN_HYPFS_MAX_PATHLEN = 1024
XEN_HYPFS_TYPE_DIR, XEN_HYPFS_TYPE_STRING, XEN_HYPFS_TYPE_UINT = 0, 2, 3
XEN_HYPFS_ENC_PLAIN = 0
xen_hypfs_direntry = struct.Struct("<BBHII")  # type, encoding, pad, content_len, max_write_len


class HypfsOp(IntEnum):
    XEN_HYPFS_OP_get_version = 0
    XEN_HYPFS_OP_read = 1
    XEN_HYPFS_OP_write_contents = 2


@dataclass(frozen=True)
class Leaf:
    type: int
    content: bytes


def _tree(build: XenBuild) -> dict[str, Leaf | None]:
    """path -> leaf; None marks a node that exists in Xen but is not modelled."""
    s = lambda text: Leaf(XEN_HYPFS_TYPE_STRING, text.encode() + b"\0")  # noqa: E731
    u = lambda value: Leaf(XEN_HYPFS_TYPE_UINT, struct.pack("<I", value))  # noqa: E731
    return {
        "": None, "buildinfo": None, "buildinfo/compileinfo": None, "buildinfo/version": None,
        "buildinfo/config": None, "params": None, "cpupool": None,
        "buildinfo/changeset": s(build.changeset),
        "buildinfo/compileinfo/compiler": s(build.compiler),
        "buildinfo/compileinfo/compile_by": s(build.compile_by),
        "buildinfo/compileinfo/compile_date": s(build.compile_date),
        "buildinfo/compileinfo/compile_domain": s(build.compile_domain),
        "buildinfo/version/extra": s(build.extraversion),
        "buildinfo/version/major": u(build.major),
        "buildinfo/version/minor": u(build.minor),
    }


def _lookup(tree: dict[str, Leaf | None], path: str) -> str | int:
    """hypfs_get_entry: the canonical path of the node, or a negative errno."""
    if not path.startswith("/"):
        return -Errno.EINVAL
    rel = path[1:]
    parts = rel.split("/") if rel else []
    node = ""
    for i, name in enumerate(parts):
        if tree.get(node, "leaf") is not None:  # a leaf (or unknown) has no children
            return -Errno.ENOENT
        if name == "":  # a trailing slash names the directory itself; an empty name elsewhere is not found
            return node if i == len(parts) - 1 else -Errno.ENOENT
        node = f"{node}/{name}" if node else name
        if node not in tree:
            return -Errno.ENOENT
    return node


def do_hypfs_op(ctx: HypercallContext, cmd: int, arg1: int, arg2: int, arg3: int, arg4: int) -> int:
    if not ctx.domain.privileged:  # XSM_PRIV
        return -Errno.EPERM
    if cmd == HypfsOp.XEN_HYPFS_OP_get_version:
        if arg1 or arg2 or arg3 or arg4:
            return -Errno.EINVAL
        return XEN_HYPFS_VERSION
    if arg2 > XEN_HYPFS_MAX_PATHLEN:
        return -Errno.EINVAL
    raw = ctx.mem.copy_from_guest(arg1, arg2)
    if raw.find(b"\0") != len(raw) - 1:
        return -Errno.EINVAL
    tree = _tree(ctx.build)
    found = _lookup(tree, raw[:-1].decode("latin-1"))
    if isinstance(found, int):
        return found
    leaf = tree[found]
    if cmd == HypfsOp.XEN_HYPFS_OP_write_contents:
        return -Errno.EACCES  # every modelled node is read-only (hypfs_write_deny)
    if cmd != HypfsOp.XEN_HYPFS_OP_read:
        return -Errno.EOPNOTSUPP
    if leaf is None:
        ctx.warn(f"hypfs read of /{found} is not modelled yet; answering -ENOSYS")
        return -Errno.ENOSYS
    if arg4 < xen_hypfs_direntry.size:
        return -Errno.EINVAL
    ctx.mem.copy_to_guest(arg3, xen_hypfs_direntry.pack(leaf.type, XEN_HYPFS_ENC_PLAIN, 0, len(leaf.content), 0))
    if arg4 < len(leaf.content) + xen_hypfs_direntry.size:
        return -Errno.ENOBUFS
    ctx.mem.copy_to_guest(arg3 + xen_hypfs_direntry.size, leaf.content)
    return 0


HANDLER = Handler(Hypercall.hypfs_op, do_hypfs_op, HypfsOp)
