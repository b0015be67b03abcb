"""Splitting QEMU's serial output into the guest's console transcript and Xen's log.

Xen's serial driver sends every "\\n" as "\\r\\n" (xen/drivers/char/serial.c); exactly that is undone.
Xen's own lines start with "(XEN) " (printk). The hardware domain's console_io bytes go to the
serial line unchanged (guest_console_write), so a guest line that does not end in "\\n" is followed
on the same line by Xen's next "(XEN) " message: such a line is split at its first "(XEN) ". Any
other domain's console_io output is filtered and buffered by Xen until a newline, then printed by
guest_printk() as "(dN) text" lines."""
from __future__ import annotations

XEN_PREFIX = b"(XEN) "


def undo_crlf(raw: bytes) -> bytes:
    return raw.replace(b"\r\n", b"\n")


def lines(data: bytes) -> list[bytes]:
    """``data`` cut after every "\\n" only (bytes.splitlines would also cut at a lone "\\r")."""
    parts = [part + b"\n" for part in data.split(b"\n")]
    parts[-1] = parts[-1][:-1]
    return [part for part in parts if part]


def split_line(line: bytes, domid: int) -> tuple[bytes, str | None]:
    """One serial line (CRLF undone, its "\\n" kept if it had one) -> (guest bytes, Xen log line)."""
    if domid == 0:
        if line.startswith(XEN_PREFIX):
            return b"", _text(line[len(XEN_PREFIX):])
        at = line.find(XEN_PREFIX)
        if at > 0:
            return line[:at], _text(line[at + len(XEN_PREFIX):])
        return line, None
    guest_prefix = b"(d%d) " % domid
    for prefix in (guest_prefix, XEN_PREFIX + guest_prefix):
        if line.startswith(prefix):
            return line[len(prefix):], None
    if line.startswith(XEN_PREFIX):
        return b"", _text(line[len(XEN_PREFIX):])
    return line, None  # nothing else should print here: keep it where a diff shows it


def _text(data: bytes) -> str:
    return data.rstrip(b"\n").decode("utf-8", errors="replace")


def split_output(raw: bytes, domid: int = 0) -> tuple[bytes, tuple[str, ...]]:
    """The guest's console transcript and Xen's log lines (without "(XEN) ") from QEMU's output."""
    console = bytearray()
    log: list[str] = []
    for line in lines(undo_crlf(raw)):
        guest, xen = split_line(line, domid)
        console += guest
        if xen is not None:
            log.append(xen)
    return bytes(console), tuple(log)
