"""do_console_io (xen/drivers/char/console.c) with xsm_console_io (xen/include/xsm/dummy.h)."""
from __future__ import annotations

from ...abi.console import CONSOLE_CHUNK, INT_MAX, ConsoleIO
from ...abi.errno import Errno
from ...abi.hypercalls import Hypercall
from ..context import HypercallContext
from . import Handler


def _xsm_console_io(ctx: HypercallContext, cmd: int) -> int:
    d = ctx.domain
    if d.is_console or d.privileged:
        return 0
    if ctx.build.debug and cmd == ConsoleIO.CONSOLEIO_write:  # CONFIG_VERBOSE_DEBUG
        return 0
    return -Errno.EPERM


def _printable(byte: int) -> bool:
    return 0x20 <= byte < 0x7F or byte == 0x09


def guest_console_write(ctx: HypercallContext, buffer: int, count: int) -> int:
    """Copies and emits 127 bytes at a time; a chunk that faults ends the call with -EFAULT
    after the earlier chunks were already written, as in Xen."""
    d = ctx.domain
    first = True
    while count > 0:
        if not first and ctx.preempt_check():
            return ctx.create_continuation(Hypercall.console_io, ConsoleIO.CONSOLEIO_write, count, buffer)
        first = False
        kcount = min(count, CONSOLE_CHUNK)
        kbuf = ctx.mem.copy_from_guest(buffer, kcount)
        if d.privileged:
            ctx.console_out(kbuf)
        else:
            kcount = _buffer_line(ctx, kbuf)
        buffer += kcount
        count -= kcount
    return 0


def _buffer_line(ctx: HypercallContext, kbuf: bytes) -> int:
    """An unprivileged domain's output: non-printables dropped, buffered until a newline, then
    emitted as one line (Xen prints it as ``(dN) line``). Returns the bytes consumed."""
    d = ctx.domain
    out = bytearray()
    consumed = 0
    newline = False
    for byte in kbuf:
        consumed += 1
        if byte == 0x0A:
            newline = True
            break
        if _printable(byte):
            out.append(byte)
    if not newline and len(d.pbuf) + len(out) < DOMAIN_PBUF_SIZE - 1:
        d.pbuf += out
    else:
        ctx.console_out(bytes(d.pbuf) + bytes(out) + b"\n")
        d.pbuf.clear()
    return consumed


DOMAIN_PBUF_SIZE = 200


def do_console_io(ctx: HypercallContext, cmd: int, count: int, buffer: int) -> int:
    rc = _xsm_console_io(ctx, cmd)
    if rc:
        return rc
    if cmd == ConsoleIO.CONSOLEIO_write:
        return guest_console_write(ctx, buffer, count)
    if cmd == ConsoleIO.CONSOLEIO_read:
        if count > INT_MAX:
            return -Errno.E2BIG
        data = ctx.console_in.read(count)
        if data:
            ctx.mem.copy_to_guest(buffer, data)
        return len(data)
    return -Errno.ENOSYS


HANDLER = Handler(Hypercall.console_io, do_console_io, ConsoleIO)
