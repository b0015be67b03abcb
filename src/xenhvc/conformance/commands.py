"""``xenhvc conformance``."""
from __future__ import annotations

import click


@click.command("conformance")
@click.option("--isa", "isas", multiple=True, type=click.Choice(["a64", "a32", "t32"]),
              help="Instruction sets to run (default: all three).")
@click.option("--domid", "domids", multiple=True, type=click.IntRange(0, 1),
              help="0: as dom0; 1: as an unprivileged dom0less domU (default: both).")
@click.option("-k", "pattern", default="", help="Only tests whose name contains this.")
@click.option("--jobs", default=2, show_default=True, help="Real-Xen boots at a time.")
@click.pass_obj
def conformance_cmd(io, isas, domids, pattern, jobs):
    """Run the Arm conformance suite under xenhvc and under real Xen 4.17 in QEMU and compare every
    test's transcript. Exit 0 only if every row is identical."""
    import io as _io

    from .matrix import run_matrix
    from .report import print_report

    stdout, _, _ = io
    rows = run_matrix(isas or ("a64", "a32", "t32"), domids or (0, 1), lambda name: pattern in name, jobs)
    text = _io.StringIO()
    print_report(rows, text)
    stdout.write(text.getvalue().encode())
    return 0 if all(r.identical for r in rows) else 1
