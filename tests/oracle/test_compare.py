"""Transcript comparison with timestamps stripped and an exceptions file (oracle/compare.py)."""
import pytest

from xenhvc.errors import UsageError
from xenhvc.oracle.compare import load_exceptions, transcript_lines

EXCEPTIONS = b"""
[[exception]]
pattern = '^audit: '
reason = "timing"

[[exception]]
pattern = '^async line'
anywhere = true
reason = "timing: placement only"
"""


@pytest.fixture
def exceptions(tmp_path):
    f = tmp_path / "x.toml"
    f.write_bytes(EXCEPTIONS)
    return load_exceptions(f)


def test_timestamps_and_excepted_lines_go(exceptions):
    console = b"[    0.000000] one\r\n[   12.345678] audit: 0.200\r\ntwo\n"
    assert transcript_lines(console, strip_timestamps=True, exceptions=exceptions) == ["one\r", "two"]
    assert transcript_lines(console)[0] == "[    0.000000] one\r"


def test_anywhere_lines_may_move_but_not_vanish(exceptions):
    a = transcript_lines(b"x\nasync line\ny\n", exceptions=exceptions)
    b = transcript_lines(b"x\ny\nasync line\n", exceptions=exceptions)
    c = transcript_lines(b"x\ny\n", exceptions=exceptions)
    assert a == b and a != c


def test_a_missing_newline_is_marked():
    assert transcript_lines(b"a\nb") == ["a", "b\\ (no newline at end)"]


@pytest.mark.parametrize("text, message", [
    (b"[[exception]]\npattern = 'x'\n", "needs a pattern and a reason"),
    (b"[[exception]]\npattern = '('\nreason = 'r'\n", "bad pattern"),
    (b"[[exception]\n", "x.toml"),
])
def test_bad_files_are_one_clear_error(tmp_path, text, message):
    f = tmp_path / "x.toml"
    f.write_bytes(text)
    with pytest.raises(UsageError, match=message):
        load_exceptions(f)


def test_an_unreadable_file(tmp_path):
    with pytest.raises(UsageError, match="cannot read"):
        load_exceptions(tmp_path / "missing.toml")
