"""Xen's serial console input (xen/drivers/char/console.c): what is typed at Xen's console goes
to the domain with the input focus, dom0, through the 128-byte serial_rx_ring; every arrival
sends dom0 VIRQ_CONSOLE (send_global_virq, "always notify the hardware domain"), and
CONSOLEIO_read takes from the ring. Here the console is xenhvc's stdin (a ConsoleInput); bytes
are taken from it only as far as the ring has room, so a pipe never loses input."""
from __future__ import annotations

from .context import ConsoleInput

SERIAL_RX_SIZE = 128


class SerialRx:
    def __init__(self, source: ConsoleInput):
        self.source = source
        self.ring = bytearray()

    @property
    def open(self) -> bool:
        """Whether more input may still come (stdin not at end of file)."""
        return not getattr(self.source, "eof", True)

    @property
    def has_room(self) -> bool:
        return len(self.ring) < SERIAL_RX_SIZE

    def poll(self) -> bool:
        """Move what is waiting on the console into the ring; True if anything arrived."""
        room = SERIAL_RX_SIZE - len(self.ring)
        data = self.source.read(room) if room > 0 else b""
        self.ring += data
        return bool(data)

    def wait(self, timeout: float | None) -> None:
        """Block until input may be waiting (or ``timeout`` s pass)."""
        wait = getattr(self.source, "wait", None)
        if wait is not None:
            wait(timeout)

    def read(self, limit: int) -> bytes:
        """CONSOLEIO_read: up to ``limit`` bytes from the ring, without blocking."""
        self.poll()
        data = bytes(self.ring[:limit])
        del self.ring[:len(data)]
        return data
