"""Differential: the probe guests' output under the model against what real Xen 4.17.7 printed
for the same images (transcripts recorded from the oracle; see guests/probe/build*.sh --run)."""
import pytest

from xenhvc import run_image, RunConfig

from tests.conftest import PROBES


def real_transcript(name: str, marker: str) -> tuple[list[str], list[str]]:
    """The guest's lines and Xen's own per-domain lines, after the guest's first line."""
    text = (PROBES / name).read_text().replace("\r", "")
    lines = text[text.index(marker):].splitlines()
    guest = [l for l in lines if not l.startswith("(XEN)")]
    xen = [l[len("(XEN) "):] for l in lines if l.startswith("(XEN) d0v0") or l.startswith("(XEN) Watchdog")]
    return guest, xen


@pytest.mark.parametrize("image,transcript,marker", [
    ("probe-a64.Image", "probe-a64.transcript.txt", "probe-a64: start"),
])
def test_probe_matches_real_xen(image, transcript, marker):
    result = run_image(PROBES / image, RunConfig(timeout=30))
    guest, xen_lines = real_transcript(transcript, marker)
    assert result.console.decode().splitlines() == guest
    assert list(result.log) == xen_lines
