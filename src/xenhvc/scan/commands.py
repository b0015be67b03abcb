"""``xenhvc scan`` and ``xenhvc density`` (click commands; the CLI registers them)."""
from __future__ import annotations

import json

import click

from .formats import ISA_CHOICES


def _write(io, text: str) -> None:
    if io is None:
        click.echo(text, nl=False)
    else:
        io[0].write(text.encode())


def _base(ctx, param, value):
    if value is None:
        return None
    try:
        return int(value, 0)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a number (0x... or decimal)") from None


_isa_opt = click.option("--isa", type=click.Choice(ISA_CHOICES),
                        help="Scan a plain binary as this ISA (aarch32: A32 and T32); restricts other formats.")
_base_opt = click.option("--base", callback=_base, metavar="ADDR",
                         help="Address of the file's first byte for plain binaries and images (default 0).")


@click.command("scan")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@_isa_opt
@_base_opt
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of tables.")
@click.option("--summary", "summary_only", is_flag=True, help="Only the summary by hypercall (and hazards).")
@click.option("--xen-only", is_flag=True, help="Only hvc #0xea1 sites and wrong immediates (no SMCCC #0).")
@click.option("--fail-on-hazard", is_flag=True, help="Exit 1 when any site has a hazard.")
@click.option("--width", default=160, show_default=True, help="Table width in columns.")
@click.pass_obj
def scan_cmd(io, files, isa, base, as_json, summary_only, xen_only, fail_on_hazard, width):
    """Find every HVC call site in FILES (ELF, arm64 Image, gzip'd Image, Arm zImage with its
    compressed kernel, or a plain binary with --isa/--base): address, ISA, immediate, the hypercall
    number and name when it is fixed, or why it is dynamic, and hazards for a guest author."""
    from . import scan_file
    from .report import render, to_json

    results = []
    for f in files:
        r = scan_file(f, isa, base)
        if xen_only:
            r.sites = [s for s in r.sites if s.kind != "smccc"]
        results.append(r)
    if as_json:
        _write(io, to_json(results))
    else:
        _write(io, render(results, width=width, show_sites=not summary_only))
    if fail_on_hazard and any(s.hazards for r in results for s in r.sites):
        return 1
    return 0


@click.command("density")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@_isa_opt
@_base_opt
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False),
              help="Also write a bar chart (PNG/SVG by extension; needs the `plot` extra: matplotlib).")
@click.pass_obj
def density_cmd(io, files, isa, base, as_json, plot_path):
    """For each ISA in FILES: the bytes the Xen call sites spend setting the hypercall number in
    x16/r12 as compiled, what the number would cost in r7 (Thumb's 16-bit movs), summed, and how
    often the out-of-line form shuffles registers."""
    from . import scan_file
    from .density import as_json as density_json, density, plot, render

    rows = density([scan_file(f, isa, base) for f in files])
    if as_json:
        _write(io, json.dumps(density_json(rows), indent=1) + "\n")
    else:
        _write(io, render(rows))
    if plot_path:
        plot(rows, plot_path)
        if not as_json:
            _write(io, f"plot written to {plot_path}\n")
    return 0
