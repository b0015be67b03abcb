"""Splitting QEMU's serial output into the guest transcript and Xen's log (no QEMU needed)."""
from xenhvc.oracle.transcript import split_output


def test_crlf_undone_exactly_once():
    raw = b"(XEN) Freed 348kB init memory.\r\nHello\r\nCR then LF\r\r\nlone\rCR\r\n(XEN) Hardware Dom0 halted\r\n"
    console, log = split_output(raw)
    assert console == b"Hello\nCR then LF\r\nlone\rCR\n"
    assert log == ("Freed 348kB init memory.", "Hardware Dom0 halted")


def test_partial_guest_line_before_a_xen_line():
    console, log = split_output(b"no newline(XEN) Hardware Dom0 halted: halting machine\r\n")
    assert console == b"no newline"
    assert log == ("Hardware Dom0 halted: halting machine",)


def test_trailing_partial_line_is_kept():
    assert split_output(b"Hello\r\nabc") == (b"Hello\nabc", ())


def test_domu_lines_lose_their_prefix():
    raw = b"(XEN) Freed 348kB init memory.\r\n(d1) Hello\r\n(XEN) (d1) also\r\n(d2) other\r\n"
    console, log = split_output(raw, domid=1)
    assert console == b"Hello\nalso\n(d2) other\n"
    assert log == ("Freed 348kB init memory.",)
