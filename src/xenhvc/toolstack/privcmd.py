"""The privcmd interface as Linux defines it (include/uapi/xen/privcmd.h), and the libxencall-style
API on top: ``Privcmd.hypercall(op, *args)``, ``xencall0`` .. ``xencall5``, bounce buffers.

The backend is what the ioctl reaches: the xenhvc model through a guest-side ``privcmd_call``
(:class:`xenhvc.toolstack.emulated.EmulatedPrivcmd`) or the real ``/dev/xen/privcmd``
(:class:`xenhvc.toolstack.device.DevicePrivcmd`)."""
from __future__ import annotations

import contextlib
import ctypes
import errno as _errno
import os
from typing import Iterator, Protocol

# asm-generic/ioctl.h (arm and arm64 use the generic layout)
_IOC_NRBITS, _IOC_TYPEBITS, _IOC_SIZEBITS, _IOC_DIRBITS = 8, 8, 14, 2
_IOC_NRSHIFT = 0
_IOC_TYPESHIFT = _IOC_NRSHIFT + _IOC_NRBITS
_IOC_SIZESHIFT = _IOC_TYPESHIFT + _IOC_TYPEBITS
_IOC_DIRSHIFT = _IOC_SIZESHIFT + _IOC_SIZEBITS
_IOC_NONE, _IOC_WRITE, _IOC_READ = 0, 1, 2


def _IOC(direction: int, type_: int | str, nr: int, size: int) -> int:  # noqa: N802 (Linux's name)
    if isinstance(type_, str):
        type_ = ord(type_)
    return (direction << _IOC_DIRSHIFT) | (type_ << _IOC_TYPESHIFT) | (nr << _IOC_NRSHIFT) | (size << _IOC_SIZESHIFT)


class privcmd_hypercall(ctypes.Structure):  # noqa: N801 (Linux's name)
    """``struct privcmd_hypercall { __u64 op; __u64 arg[5]; }``: 48 bytes on every ABI."""

    _fields_ = [("op", ctypes.c_uint64), ("arg", ctypes.c_uint64 * 5)]


IOCTL_PRIVCMD_HYPERCALL = _IOC(_IOC_NONE, "P", 0, ctypes.sizeof(privcmd_hypercall))
assert IOCTL_PRIVCMD_HYPERCALL == 0x00305000

MAX_ARGS = 5
_U64 = (1 << 64) - 1


class HypercallBuffer(Protocol):
    """Memory the hypervisor can reach: ``addr`` is what goes into a hypercall argument."""

    addr: int
    size: int

    def read(self, length: int | None = None, offset: int = 0) -> bytes: ...

    def write(self, data: bytes, offset: int = 0) -> None: ...


class Backend(Protocol):
    def ioctl_hypercall(self, call: privcmd_hypercall) -> int:
        """Issue IOCTL_PRIVCMD_HYPERCALL: the hypercall's result (a negative Xen errno as is)."""

    def alloc_buffer(self, size: int) -> HypercallBuffer: ...

    def free_buffer(self, buf: HypercallBuffer) -> None: ...

    def close(self) -> None: ...


def _errno_of(result: int) -> int | None:
    """The ioctl return convention: -4095..-1 is -errno (Xen's errno values are Linux's)."""
    return -result if -4095 <= result < 0 else None


class Privcmd:
    """An open privcmd: ``hypercall(op, *args)`` returns Xen's result or raises ``OSError`` with
    Xen's errno, as ``ioctl(fd, IOCTL_PRIVCMD_HYPERCALL, &call)`` does."""

    def __init__(self, backend: Backend):
        self.backend = backend

    @classmethod
    def open(cls, path: str = "/dev/xen/privcmd") -> "Privcmd":
        from .device import DevicePrivcmd

        return cls(DevicePrivcmd(path))

    @classmethod
    def emulated(cls, isa: str = "a64", **config) -> "Privcmd":
        """A dom0 on the xenhvc model whose kernel issues the calls through ``privcmd_call``."""
        from .emulated import EmulatedPrivcmd

        return cls(EmulatedPrivcmd(isa, **config))

    def hypercall(self, op: int, *args: int) -> int:
        if len(args) > MAX_ARGS:
            raise TypeError(f"a hypercall takes at most {MAX_ARGS} arguments ({len(args)} given)")
        call = privcmd_hypercall(op & _U64, (ctypes.c_uint64 * 5)(*[(a & _U64) for a in args]))
        result = self.backend.ioctl_hypercall(call)
        err = _errno_of(result)
        if err is not None:
            raise OSError(err, f"hypercall {op}: {os.strerror(err) if err in _errno.errorcode else err}")
        return result

    # libxencall names
    def xencall0(self, op: int) -> int:
        return self.hypercall(op)

    def xencall1(self, op: int, a1: int) -> int:
        return self.hypercall(op, a1)

    def xencall2(self, op: int, a1: int, a2: int) -> int:
        return self.hypercall(op, a1, a2)

    def xencall3(self, op: int, a1: int, a2: int, a3: int) -> int:
        return self.hypercall(op, a1, a2, a3)

    def xencall4(self, op: int, a1: int, a2: int, a3: int, a4: int) -> int:
        return self.hypercall(op, a1, a2, a3, a4)

    def xencall5(self, op: int, a1: int, a2: int, a3: int, a4: int, a5: int) -> int:
        return self.hypercall(op, a1, a2, a3, a4, a5)

    def alloc_buffer(self, size: int) -> HypercallBuffer:
        """``xencall_alloc_buffer``: hypercall-safe memory (locked pages; guest RAM on the model)."""
        if size <= 0:
            raise ValueError("buffer size must be positive")
        return self.backend.alloc_buffer(size)

    def free_buffer(self, buf: HypercallBuffer) -> None:
        self.backend.free_buffer(buf)

    @contextlib.contextmanager
    def bounce(self, data: bytes = b"", size: int | None = None) -> Iterator[HypercallBuffer]:
        """libxc's hypercall bounce: a buffer holding ``data`` (``size`` bytes, at least
        ``len(data)``), for a pointer argument; read what Xen wrote with ``buf.read()`` before
        the block ends."""
        buf = self.alloc_buffer(max(size or 0, len(data), 1))
        try:
            if data:
                buf.write(data)
            yield buf
        finally:
            self.free_buffer(buf)

    def close(self) -> None:
        self.backend.close()

    def __enter__(self) -> "Privcmd":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def xencall0(h: Privcmd, op: int) -> int:
    return h.hypercall(op)


def xencall1(h: Privcmd, op: int, a1: int) -> int:
    return h.hypercall(op, a1)


def xencall2(h: Privcmd, op: int, a1: int, a2: int) -> int:
    return h.hypercall(op, a1, a2)


def xencall3(h: Privcmd, op: int, a1: int, a2: int, a3: int) -> int:
    return h.hypercall(op, a1, a2, a3)


def xencall4(h: Privcmd, op: int, a1: int, a2: int, a3: int, a4: int) -> int:
    return h.hypercall(op, a1, a2, a3, a4)


def xencall5(h: Privcmd, op: int, a1: int, a2: int, a3: int, a4: int, a5: int) -> int:
    return h.hypercall(op, a1, a2, a3, a4, a5)


class BumpAllocator:
    """First-fit allocation of 64-byte-aligned blocks inside one region (the model's bounce area)."""

    ALIGN = 64

    def __init__(self, base: int, size: int):
        self.base, self.size = base, size
        self.used: dict[int, int] = {}

    def alloc(self, size: int) -> int:
        size = (size + self.ALIGN - 1) & ~(self.ALIGN - 1)
        addr = self.base
        for start, length in sorted(self.used.items()):
            if addr + size <= start:
                break
            addr = max(addr, start + length)
        if addr + size > self.base + self.size:
            raise MemoryError(f"no room for a {size}-byte hypercall buffer")
        self.used[addr] = size
        return addr

    def free(self, addr: int) -> None:
        self.used.pop(addr, None)
