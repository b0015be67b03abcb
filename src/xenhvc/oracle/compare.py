"""Comparing a console transcript of the model with real Xen's, line by line: optionally without
Linux's "[ seconds ]" timestamps, and without the lines an exceptions file accepts (TOML, one
[[exception]] table per pattern, each with its reason). An exception with ``anywhere = true``
accepts only a line's position: such lines are compared as a sorted block at the end, so each
must still appear on both sides as often."""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from ..errors import UsageError

#: the timestamp printk puts before each kernel line
KERNEL_TIMESTAMP = re.compile(r"^\[\s*\d+\.\d+\] ")


@dataclass(frozen=True)
class TranscriptException:
    pattern: re.Pattern
    reason: str
    #: only the line's place may differ (timing), not whether it is there
    anywhere: bool = False


def load_exceptions(path: str | Path) -> tuple[TranscriptException, ...]:
    try:
        table = tomllib.loads(Path(path).read_text())
    except OSError as e:
        raise UsageError(f"cannot read {path}: {e.strerror}") from None
    except tomllib.TOMLDecodeError as e:
        raise UsageError(f"{path}: {e}") from None
    out = []
    for i, entry in enumerate(table.get("exception", [])):
        if not isinstance(entry, dict) or not entry.get("pattern") or not entry.get("reason"):
            raise UsageError(f"{path}: exception {i + 1} needs a pattern and a reason")
        try:
            out.append(TranscriptException(re.compile(entry["pattern"]), entry["reason"], bool(entry.get("anywhere"))))
        except re.error as e:
            raise UsageError(f"{path}: exception {i + 1}: bad pattern: {e}") from None
    return tuple(out)


def transcript_lines(console: bytes, *, strip_timestamps: bool = False,
                     exceptions: tuple[TranscriptException, ...] = ()) -> list[str]:
    """The transcript as lines to compare (a CR before the LF is kept: it is part of what the
    guest wrote), timestamps removed if asked, excepted lines left out. A last line without a newline is marked so it differs from one with."""
    text = console.decode("utf-8", errors="backslashreplace")
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    else:
        lines[-1] += "\\ (no newline at end)"
    out, placeless = [], []
    for line in lines:
        if strip_timestamps:
            line = KERNEL_TIMESTAMP.sub("", line)
        excepted = next((e for e in exceptions if e.pattern.search(line)), None)
        if excepted is None:
            out.append(line)
        elif excepted.anywhere:
            placeless.append(f"(anywhere) {line}")
        # any other exception leaves the line out entirely
    return out + sorted(placeless)
