"""Differential: the probe guests' output under the model against what real Xen 4.17.7 printed
for the same images (transcripts recorded from the oracle with guests/probe/build*.sh --run).
Deliberate differences are listed, with their evidence, in tests/oracle-deviations.toml."""
import re
import tomllib
from pathlib import Path

import pytest

from xenhvc import RunConfig, run_image

from tests.conftest import PROBES

DEVIATIONS = tomllib.loads((Path(__file__).parent / "oracle-deviations.toml").read_text())["deviation"]


def _excluded(guest: str):
    patterns = [re.compile(d["line"]) for d in DEVIATIONS if guest in d["guests"]]
    return lambda line: any(p.search(line) for p in patterns)


def real_transcript(name: str) -> tuple[list[str], list[str]]:
    """The guest's lines and Xen's per-domain lines, from the guest's first line on."""
    text = (PROBES / f"{name}.transcript.txt").read_text().replace("\r", "")
    lines = text[text.index(f"{name}: start"):].splitlines()
    guest = [l for l in lines if not l.startswith("(XEN)")]
    xen = [l[len("(XEN) "):] for l in lines if l.startswith("(XEN) d0v0") or l.startswith("(XEN) Watchdog")]
    return guest, xen


@pytest.mark.parametrize("name,image", [("probe-a64", "probe-a64.Image"), ("probe-a32", "probe-a32.zImage"),
                                        ("probe-t32", "probe-t32.zImage")])
def test_probe_matches_real_xen(name, image):
    result = run_image(PROBES / image, RunConfig(timeout=30))
    guest, xen_lines = real_transcript(name)
    skip = _excluded(name)
    assert [l for l in result.console.decode().splitlines() if not skip(l)] == [l for l in guest if not skip(l)]
    assert list(result.log) == xen_lines


def test_every_deviation_still_applies():
    """A deviation that no longer matches any line is stale and must be removed."""
    for d in DEVIATIONS:
        for name in d["guests"]:
            guest, _ = real_transcript(name)
            assert any(re.search(d["line"], l) for l in guest), (name, d["line"])
