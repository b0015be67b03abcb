import io

import pytest

from xenhvc.abi.console import ConsoleIO
from xenhvc.abi.errno import Errno
from xenhvc.abi.hypercalls import Hypercall

from tests.conftest import Model

CIO = Hypercall.console_io


def test_write(dom0):
    dom0.put(dom0.buf, b"hello\n")
    assert dom0.call(CIO, ConsoleIO.CONSOLEIO_write, 6, dom0.buf) == 0
    assert bytes(dom0.console) == b"hello\n"


def test_write_zero(dom0):
    assert dom0.call(CIO, ConsoleIO.CONSOLEIO_write, 0, 1) == 0


@pytest.mark.parametrize("ptr", [0, 1, 0xFFFFFFFF0000])
def test_write_bad_pointer(dom0, ptr):
    assert dom0.call(CIO, ConsoleIO.CONSOLEIO_write, 4, ptr) == -Errno.EFAULT
    assert dom0.console == b""


def test_write_in_127_byte_chunks_faults_after_earlier_chunks(dom0):
    end = dom0.mem.base + len(dom0.mem.ram)
    start = end - 200
    dom0.put(start, bytes(range(65, 65 + 50)) * 4)
    assert dom0.call(CIO, ConsoleIO.CONSOLEIO_write, 300, start) == -Errno.EFAULT
    assert len(dom0.console) == 127  # the first chunk was written before the fault


def test_dom0_output_is_raw(dom0):
    dom0.put(dom0.buf, b"\x1b[1mx\x00\r\n")
    dom0.call(CIO, ConsoleIO.CONSOLEIO_write, 8, dom0.buf)
    assert bytes(dom0.console) == b"\x1b[1mx\x00\r\n"


def test_domu_console_domain_output_is_filtered_and_line_buffered(domu):
    domu.put(domu.buf, b"ab\x01c")
    domu.call(CIO, ConsoleIO.CONSOLEIO_write, 4, domu.buf)
    assert domu.console == b""
    domu.put(domu.buf, b"\td\nrest")
    domu.call(CIO, ConsoleIO.CONSOLEIO_write, 7, domu.buf)
    assert bytes(domu.console) == b"abc\td\n"


def test_toolstack_domu_is_denied_on_a_release_build():
    m = Model(2)
    m.xen.domain.is_console = False
    m.put(m.buf, b"x")
    assert m.call(CIO, ConsoleIO.CONSOLEIO_write, 1, m.buf) == -Errno.EPERM
    debug = Model(2, debug=True)
    debug.xen.domain.is_console = False
    debug.put(debug.buf, b"x\n")
    assert debug.call(CIO, ConsoleIO.CONSOLEIO_write, 2, debug.buf) == 0
    assert debug.call(CIO, ConsoleIO.CONSOLEIO_read, 1, debug.buf) == -Errno.EPERM


class _Input:
    def __init__(self, data: bytes):
        self.stream = io.BytesIO(data)

    def read(self, limit: int) -> bytes:
        return self.stream.read(limit)


def test_read():
    m = Model(0, console_in=_Input(b"typed"))
    assert m.call(CIO, ConsoleIO.CONSOLEIO_read, 3, m.buf) == 3
    assert m.get(m.buf, 3) == b"typ"
    assert m.call(CIO, ConsoleIO.CONSOLEIO_read, 16, m.buf) == 2
    assert m.call(CIO, ConsoleIO.CONSOLEIO_read, 16, m.buf) == 0


def test_read_too_big(dom0):
    assert dom0.call(CIO, ConsoleIO.CONSOLEIO_read, 0x80000000, dom0.buf) == -Errno.E2BIG


def test_unknown_cmd(dom0):
    assert dom0.call(CIO, 2, 16, dom0.buf) == -Errno.ENOSYS
