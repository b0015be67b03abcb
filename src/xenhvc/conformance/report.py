"""The conformance report: one row per test, instruction set and domain; then N identical, M differ."""
from __future__ import annotations

import difflib
from typing import TextIO

from rich.console import Console
from rich.table import Table

from .matrix import Row


def print_report(rows: list[Row], out: TextIO, show_diffs: bool = True) -> None:
    console = Console(file=out, width=120, color_system=None, force_terminal=False)
    table = Table(title="xenhvc vs Xen 4.17 (QEMU)", show_lines=False)
    for column in ("test", "isa", "domain", "result"):
        table.add_column(column)
    for r in rows:
        table.add_row(r.test, r.isa, "dom0" if r.domid == 0 else f"domU (d{r.domid})",
                      "identical" if r.identical else "DIFFERS")
    console.print(table)
    if show_diffs:
        for r in rows:
            if not r.identical:
                console.print(f"--- {r.test} [{r.isa}, d{r.domid}]: real Xen vs xenhvc")
                diff = difflib.unified_diff(r.xen.splitlines(), r.model.splitlines(), "xen", "xenhvc", lineterm="")
                console.print("\n".join(diff), markup=False, highlight=False)
    same = sum(r.identical for r in rows)
    out.write(f"{same} identical, {len(rows) - same} differ\n")
