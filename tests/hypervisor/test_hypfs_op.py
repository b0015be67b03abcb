import struct

import pytest

from xenhvc.abi.errno import Errno
from xenhvc.abi.hypercalls import Hypercall as H


def read(m, path: bytes, size: int = 256, length=None):
    m.put(m.buf, path)
    return m.call(H.hypfs_op, 1, m.buf, len(path) if length is None else length, m.buf + 0x800, size)


def test_version(dom0, domu):
    assert dom0.call(H.hypfs_op, 0, 0, 0, 0, 0) == 1
    assert dom0.call(H.hypfs_op, 0, 0, 1, 0, 0) == -Errno.EINVAL
    assert domu.call(H.hypfs_op, 0, 0, 0, 0, 0) == -Errno.EPERM


@pytest.mark.parametrize("path,kind,content", [
    (b"/buildinfo/version/major\0", 3, struct.pack("<I", 4)),
    (b"/buildinfo/version/minor\0", 3, struct.pack("<I", 17)),
    (b"/buildinfo/version/extra\0", 2, b".7\0"),
    (b"/buildinfo/changeset\0", 2, b"\0"),
    (b"/buildinfo/compileinfo/compile_by\0", 2, b"pkg-xen-devel\0"),
])
def test_read_leaves(dom0, path, kind, content):
    assert read(dom0, path) == 0
    assert struct.unpack("<BBHII", dom0.get(dom0.buf + 0x800, 12)) == (kind, 0, 0, len(content), 0)
    assert dom0.get(dom0.buf + 0x80c, len(content)) == content


@pytest.mark.parametrize("path,length,rc", [
    (b"buildinfo\0", None, -Errno.EINVAL),  # not absolute
    (b"/nope\0", None, -Errno.ENOENT),
    (b"/buildinfo/changeset/x\0", None, -Errno.ENOENT),
    (b"//\0", None, -Errno.ENOENT),
    (b"/buildinfo", None, -Errno.EINVAL),  # not NUL-terminated
    (b"/a\0b\0", None, -Errno.EINVAL),  # NUL inside
    (b"/\0", 1025, -Errno.EINVAL),  # longer than XEN_HYPFS_MAX_PATHLEN
])
def test_path_errors(dom0, path, length, rc):
    assert read(dom0, path, length=length) == rc


def test_buffer_sizes(dom0):
    assert read(dom0, b"/buildinfo/version/extra\0", size=11) == -Errno.EINVAL
    assert read(dom0, b"/buildinfo/version/extra\0", size=14) == -Errno.ENOBUFS
    assert read(dom0, b"/buildinfo/version/extra\0", size=15) == 0


def test_bad_pointers_and_write(dom0):
    assert dom0.call(H.hypfs_op, 1, 1, 4, dom0.buf, 64) == -Errno.EFAULT
    dom0.put(dom0.buf, b"/buildinfo/version/major\0")
    assert dom0.call(H.hypfs_op, 1, dom0.buf, 25, 1, 64) == -Errno.EFAULT
    assert dom0.call(H.hypfs_op, 2, dom0.buf, 25, dom0.buf + 0x800, 4) == -Errno.EACCES
    assert dom0.call(H.hypfs_op, 3, dom0.buf, 25, dom0.buf + 0x800, 4) == -Errno.EOPNOTSUPP
