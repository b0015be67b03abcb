"""`scan` and `density` through click's CliRunner (the commands live in xenhvc.scan.commands)."""
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from xenhvc.scan.commands import density_cmd, scan_cmd

from .test_elf_and_raw import SOURCES


@pytest.fixture
def elf(build):
    return str(build.elf("a64", SOURCES["a64"]))


def test_scan_table(elf):
    r = CliRunner().invoke(scan_cmd, [elf, "--width", "200"])
    assert r.exit_code == 0, r.output
    assert "HVC call sites" in r.output and "Summary by hypercall" in r.output
    assert "console_io" in r.output and "xen_console_io" in r.output
    assert "[wrong-immediate]" in r.output and "[veneer-window]" in r.output


def test_scan_json(elf):
    r = CliRunner().invoke(scan_cmd, [elf, "--json"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.output)
    assert data["format"] == "elf64"
    by_fn = {s["function"]: s for s in data["sites"]}
    assert by_fn["xen_console_io"]["number"] == 18 and by_fn["xen_console_io"]["kind"] == "xen"
    assert by_fn["privcmd_call"]["dynamic"].startswith("from a function argument")
    names = {row["name"]: row["sites"] for row in data["summary"]}
    assert names["console_io"] == 1


def test_fail_on_hazard_and_xen_only(elf):
    r = CliRunner().invoke(scan_cmd, [elf, "--fail-on-hazard", "--summary", "--xen-only"], standalone_mode=False)
    assert r.return_value == 1
    assert "PSCI_0_2" not in r.output


def test_plain_binary_flags(build):
    raw = str(Path(build.elf("a32", SOURCES["a32"], base=0x1000)).with_suffix(".raw"))
    r = CliRunner().invoke(scan_cmd, [raw, "--isa", "aarch32", "--base", "0x1000", "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["format"] == "raw"
    bad = CliRunner().invoke(scan_cmd, [raw, "--base", "zz"])
    assert bad.exit_code == 2


def test_density_table_json_and_plot(build, tmp_path):
    elfs = [str(build.elf(i, SOURCES[i])) for i in ("a64", "a32", "t32")]
    r = CliRunner().invoke(density_cmd, elfs)
    assert r.exit_code == 0, r.output
    assert "as compiled" in r.output and "t32" in r.output
    rows = json.loads(CliRunner().invoke(density_cmd, [*elfs, "--json"]).output)
    t32 = next(x for x in rows if x["isa"] == "t32")
    assert t32["r7_bytes"] < t32["compiled_bytes"]
    pytest.importorskip("matplotlib")
    png = tmp_path / "d.png"
    r = CliRunner().invoke(density_cmd, [*elfs, "--plot", str(png)])
    assert r.exit_code == 0, r.output
    assert png.read_bytes()[:4] == b"\x89PNG"
