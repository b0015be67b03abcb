"""The real ``/dev/xen/privcmd``: ``ioctl(fd, IOCTL_PRIVCMD_HYPERCALL, &call)``, with hypercall
buffers from ``/dev/xen/hypercall`` (locked pages Xen can always reach), as libxencall does."""
from __future__ import annotations

import ctypes
import fcntl
import mmap
import os

from .privcmd import IOCTL_PRIVCMD_HYPERCALL, privcmd_hypercall

PAGE = mmap.PAGESIZE
HYPERCALL_DEVICE = "/dev/xen/hypercall"


class MappedBuffer:
    def __init__(self, mm: mmap.mmap, size: int):
        self.mm, self.size = mm, size
        self._anchor = ctypes.c_char.from_buffer(mm)
        self.addr = ctypes.addressof(self._anchor)

    def read(self, length: int | None = None, offset: int = 0) -> bytes:
        length = self.size - offset if length is None else length
        return bytes(self.mm[offset:offset + length])

    def write(self, data: bytes, offset: int = 0) -> None:
        self.mm[offset:offset + len(data)] = data

    def close(self) -> None:
        del self._anchor
        self.mm.close()


class DevicePrivcmd:
    def __init__(self, path: str = "/dev/xen/privcmd"):
        self.fd = os.open(path, os.O_RDWR | os.O_CLOEXEC)
        try:
            self.buf_fd: int | None = os.open(HYPERCALL_DEVICE, os.O_RDWR | os.O_CLOEXEC)
        except OSError:
            self.buf_fd = None  # older kernels: anonymous memory, locked

    def ioctl_hypercall(self, call: privcmd_hypercall) -> int:
        # the kernel's return value; fcntl raises OSError for -1/errno, as the C API does
        return fcntl.ioctl(self.fd, IOCTL_PRIVCMD_HYPERCALL, call)

    def alloc_buffer(self, size: int) -> MappedBuffer:
        length = (size + PAGE - 1) // PAGE * PAGE
        if self.buf_fd is not None:
            mm = mmap.mmap(self.buf_fd, length, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
        else:
            mm = mmap.mmap(-1, length, mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS, mmap.PROT_READ | mmap.PROT_WRITE)
            libc = ctypes.CDLL(None, use_errno=True)
            buf = MappedBuffer(mm, size)
            if libc.mlock(ctypes.c_void_p(buf.addr), ctypes.c_size_t(length)) != 0:
                err = ctypes.get_errno()
                buf.close()
                raise OSError(err, "mlock of a hypercall buffer failed")
            return buf
        return MappedBuffer(mm, size)

    def free_buffer(self, buf: MappedBuffer) -> None:
        buf.close()

    def close(self) -> None:
        for fd in (self.fd, self.buf_fd):
            if fd is not None:
                os.close(fd)
        self.buf_fd = None
