"""xen/include/public/xen.h: console_io."""
from enum import IntEnum


class ConsoleIO(IntEnum):
    CONSOLEIO_write = 0
    CONSOLEIO_read = 1


#: guest_console_write copies through a 128-byte buffer, 127 bytes at a time.
CONSOLE_CHUNK = 127
INT_MAX = 0x7FFFFFFF
