"""``xenhvc check-stubs FILE [--symbol NAME=ADDR ...] [--json]``."""
from __future__ import annotations

import io as _io
import json

import click

from ..abi.hypercalls import hypercall_name


def _symbol(text: str) -> tuple[str, int]:
    name, sep, addr = text.partition("=")
    try:
        if not sep or not name:
            raise ValueError
        return name, int(addr, 0)
    except ValueError:
        raise click.BadParameter(f"{text!r} is not NAME=ADDR (e.g. privcmd_call=0x1040)") from None


def render(reports, out, width: int = 160) -> None:
    """The table (rich) and, under it, each error and warning on a line of its own."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = Console(file=out, width=width, force_terminal=False, no_color=True, highlight=False)
    table = Table(title="hypercall stubs", show_lines=False)
    for col in ("stub", "isa", "hvc", "number", "ABI register <- AAPCS argument", "callee-saved lost", "stack",
                "result", "verdict"):
        table.add_column(col, no_wrap=col.startswith(("ABI", "number", "stub")))
    for r in reports:
        if r.number is not None:
            number = f"{r.number} ({hypercall_name(r.number)})"
        elif r.number_from:
            number = f"from {r.number_from}"
        else:
            number = "not set" if r.hvc_immediate is not None else "-"
        mapping = ", ".join(f"{reg}<-{what.split(' ')[0]}" for reg, what in
                            list(r.mapping.items())[:r.arity if r.arity is not None else 5])
        table.add_row(*(Text(cell) for cell in (
            f"{r.name} @ {r.address:#x}", r.isa,
            "-" if r.hvc_immediate is None else f"#{r.hvc_immediate:#x}",
            number, mapping or "-",
            ", ".join(r.not_preserved) or "none",
            "-" if r.stack_delta is None else ("balanced" if r.stack_delta == 0 else f"{r.stack_delta:+#x}"),
            "-" if r.returns_result is None else ("returned" if r.returns_result else "lost"),
            "ok" if r.ok else "ERROR")))
    console.print(table)
    for r in reports:
        for e in r.errors:
            console.print(f"error: {r.name}: {e}", markup=False)
        for w in r.warnings:
            console.print(f"warning: {r.name}: {w}", markup=False)
    bad = sum(1 for r in reports if not r.ok)
    console.print(f"{len(reports)} stub(s) checked, {bad} with errors", markup=False)


@click.command("check-stubs")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--symbol", "symbols", multiple=True, metavar="NAME=ADDR",
              help="A stub to check at ADDR (bit 0 set: Thumb). Needed for raw images; with an ELF file only "
                   "these are checked.")
@click.option("--isa", type=click.Choice(["a64", "a32", "t32"]),
              help="Instruction set of a raw image (t32: the --symbol addresses are Thumb).")
@click.option("--base", default="0", show_default=True, help="Load address of a raw image.")
@click.option("--json", "as_json", is_flag=True, help="One JSON document instead of the table.")
@click.pass_obj
def check_stubs_cmd(io, file, symbols, isa, base, as_json):
    """Check the hypercall stubs in FILE against the Xen Arm ABI.

    Each stub (ELF functions named HYPERVISOR_*, *hypercall* or privcmd_call, and every function
    containing an HVC; or the --symbol addresses of a raw image) runs alone on the emulator with a
    distinct marker in every AAPCS argument position (argN = the Nth argument: x0-x7/r0-r3, then the
    stack). At its HVC the report shows which argument reached which ABI register (x0-x4/r0-r4), the
    number in x16/r12 and the HVC immediate; on return, the callee-saved registers it did not preserve,
    whether the stack is balanced and whether Xen's result came back. Exit 1 if any stub is wrong."""
    from .check import check_file

    try:
        base_addr = int(base, 0)
    except ValueError:
        raise click.BadParameter(f"{base!r} is not an address", param_hint="--base") from None
    reports = check_file(file, [_symbol(s) for s in symbols], isa, base_addr)
    text = _io.StringIO()
    if as_json:
        json.dump({"file": file, "stubs": [r.to_json() for r in reports], "ok": all(r.ok for r in reports)},
                  text, indent=2)
        text.write("\n")
    elif reports:
        render(reports, text)
    else:
        text.write(f"no hypercall stubs found in {file}\n")
    _emit(io, text.getvalue())
    code = 0 if reports and all(r.ok for r in reports) else 1
    if code:
        raise click.exceptions.Exit(code)
    return 0


def _emit(io, text: str) -> None:
    """Write to the stdout ``xenhvc.cli.main`` passes in (binary), or click's (CliRunner)."""
    if io is not None:
        io[0].write(text.encode())
        io[0].flush()
    else:
        click.echo(text, nl=False)
