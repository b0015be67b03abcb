"""Run the conformance tests on both sides and compare them, test by test."""
from __future__ import annotations

import re
import tomllib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from .guests import GuestTest, conformance_image, list_tests, source_root

TEST_LINE = re.compile(r"^TEST (\S+)$")


@dataclass(frozen=True)
class Transcript:
    console: str
    exit_code: int | None


@dataclass(frozen=True)
class Row:
    test: str
    isa: str
    domid: int
    model: str  # the test's transcript under xenhvc
    xen: str  # ... under real Xen
    identical: bool


def split_blocks(console: str) -> dict[str, str]:
    """``xtest=all`` output, cut at each ``TEST <name>`` line; the lines before the first test and
    the summary line after the last one are kept under "(header)" and "(summary)"."""
    blocks: dict[str, list[str]] = {"(header)": []}
    current = "(header)"
    for line in console.splitlines():
        m = TEST_LINE.match(line)
        if m:
            current = m.group(1)
            blocks[current] = [line]
        elif line.startswith("xtest summary:"):
            blocks["(summary)"] = [line]
            current = "(summary)"
        else:
            blocks[current].append(line)
    return {k: "\n".join(v) + "\n" for k, v in blocks.items()}


def _deviations() -> list[dict]:
    path = source_root() / "tests" / "oracle-deviations.toml"
    return tomllib.loads(path.read_text())["deviation"] if path.is_file() else []


def _normalise(test: str, text: str, deviations: list[dict]) -> str:
    patterns = [re.compile(d["line"]) for d in deviations if test in d.get("tests", ())]
    if not patterns:
        return text
    return "".join(l + "\n" for l in text.splitlines() if not any(p.search(l) for p in patterns))


def run_model(isa: str, domid: int, xtest: str) -> Transcript:
    from ..session import RunConfig, run_image

    result = run_image(conformance_image(isa), RunConfig(bootargs=f"xtest={xtest}", domid=domid, timeout=60))
    return Transcript(result.console.decode(errors="replace"), int(result.stop.exit_code))


def run_xen(isa: str, domid: int, xtest: str) -> Transcript:
    from ..oracle import boot_dom0, boot_domu

    boot = boot_dom0 if domid == 0 else boot_domu
    result = boot(conformance_image(isa), bootargs=f"xtest={xtest}", timeout=90)
    code = None if result.exit_code is None else int(result.exit_code)
    return Transcript(result.console.decode(errors="replace"), code)


def run_matrix(isas=("a64", "a32", "t32"), domids=(0, 1), select: Callable[[str], bool] = lambda name: True,
               jobs: int = 2, xen: Callable[[str, int, str], Transcript] = run_xen,
               model: Callable[[str, int, str], Transcript] = run_model) -> list[Row]:
    """Every selected test on every ISA and domain, compared. Real-Xen boots run ``jobs`` at a time."""
    deviations = _deviations()
    plan: list[tuple[str, int, str, tuple[GuestTest, ...]]] = []
    for isa in isas:
        tests = tuple(t for t in list_tests(isa) if select(t.name))
        for domid in domids:
            if any(not t.terminal for t in tests):
                plan.append((isa, domid, "all", tuple(t for t in tests if not t.terminal)))
            plan += [(isa, domid, t.name, (t,)) for t in tests if t.terminal]

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        xen_runs = [pool.submit(xen, isa, domid, xtest) for isa, domid, xtest, _ in plan]
        model_runs = [model(isa, domid, xtest) for isa, domid, xtest, _ in plan]
        xen_done = [f.result() for f in xen_runs]

    rows: list[Row] = []
    for (isa, domid, xtest, tests), m, x in zip(plan, model_runs, xen_done):
        if xtest == "all":
            mb, xb = split_blocks(m.console), split_blocks(x.console)
            for t in tests:
                rows.append(_row(t.name, isa, domid, mb.get(t.name, ""), xb.get(t.name, ""), deviations))
            rows.append(_row("(summary)", isa, domid, mb.get("(summary)", "") + f"exit {m.exit_code}\n",
                             xb.get("(summary)", "") + f"exit {x.exit_code}\n", deviations))
        else:
            rows.append(_row(xtest, isa, domid, m.console + f"exit {m.exit_code}\n",
                             x.console + f"exit {x.exit_code}\n", deviations))
    return rows


def _row(test: str, isa: str, domid: int, model: str, xen: str, deviations: list[dict]) -> Row:
    same = _normalise(test, model, deviations) == _normalise(test, xen, deviations)
    return Row(test, isa, domid, model, xen, same)
