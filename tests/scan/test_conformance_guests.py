"""The scan of every conformance guest image finds exactly the sites its sources contain: the HVCs
objdump shows in guests/build/obj-<isa>/conformance.elf, the hypercall wrappers the C sources call,
and the wrong immediates of the runtime's badhvc list."""
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from xenhvc.scan import scan_file

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / "guests" / "build"
IMAGES = {"a64": "conformance-a64.Image", "a32": "conformance-a32.zImage", "t32": "conformance-t32.zImage"}
OBJDUMP = {"a64": "aarch64-linux-gnu-objdump", "a32": "arm-linux-gnueabihf-objdump", "t32": "arm-linux-gnueabihf-objdump"}


@pytest.fixture(scope="module")
def guests():
    if shutil.which("arm-linux-gnueabihf-gcc") is None or shutil.which("aarch64-linux-gnu-gcc") is None:
        pytest.skip("cross compilers are not installed (scripts/setup.sh)")
    if not all((BUILD / n).exists() and (BUILD / f"obj-{i}" / "conformance.elf").exists() for i, n in IMAGES.items()):
        subprocess.run(["bash", str(ROOT / "guests" / "build.sh")], check=True, capture_output=True)
    return BUILD


def objdump_sites(elf: Path, isa: str) -> set[tuple[int, str, int]]:
    out = subprocess.run([OBJDUMP[isa], "-d", str(elf)], capture_output=True, text=True, check=True).stdout
    sites = set()
    for line in out.splitlines():
        m = re.match(r"\s*([0-9a-f]+):\s+((?:[0-9a-f]{4,8} ?)+)\s+hvc(?:\.w)?\s+#?(0x[0-9a-f]+|\d+)", line)
        if m:
            words = m.group(2).split()
            state = "a64" if isa == "a64" else ("t32" if len(words[0]) == 4 else "a32")
            sites.add((int(m.group(1), 16), state, int(m.group(3), 0)))
    return sites


def source_wrappers() -> set[str]:
    text = "".join(p.read_text() for p in (ROOT / "guests" / "conformance").glob("*.c"))
    return set(re.findall(r"HYPERVISOR_(\w+)\s*\(", text))


def bad_immediates(isa: str) -> set[int]:
    start = (ROOT / "guests" / "runtime" / ("start-a64.S" if isa == "a64" else "start-a32.S")).read_text()
    return {int(x, 16) for x in re.findall(r"^\s*badhvc\s+(0x[0-9a-fA-F]+)", start, re.M)}


@pytest.mark.parametrize("isa", ["a64", "a32", "t32"])
def test_image_scan_finds_exactly_the_elf_sites(guests, isa):
    elf = guests / f"obj-{isa}" / "conformance.elf"
    want = objdump_sites(elf, isa)
    from_elf = scan_file(elf).sites
    from_image = scan_file(guests / IMAGES[isa]).sites
    assert {(s.address, s.isa, s.imm) for s in from_elf} == want
    assert {(s.address, s.isa, s.imm) for s in from_image} == want
    # the raw image's backward analysis agrees with the ELF's, site by site
    elf_numbers = {s.address: s.number for s in from_elf}
    assert {s.address: s.number for s in from_image} == elf_numbers


@pytest.mark.parametrize("isa", ["a64", "a32", "t32"])
def test_sites_match_the_sources(guests, isa):
    sites = scan_file(guests / IMAGES[isa]).sites
    found = {s.name for s in sites if s.kind == "xen" and s.number is not None}
    missing = source_wrappers() - found
    assert not missing, f"wrappers called in guests/conformance but not found: {missing}"
    others = {s.imm for s in sites if s.kind == "other"}
    assert others == bad_immediates(isa)
    # each wrong immediate once per state the runtime assembles it in
    per_state = 1 if isa == "a64" else 2
    assert sum(1 for s in sites if s.kind == "other") == per_state * len(bad_immediates(isa))
