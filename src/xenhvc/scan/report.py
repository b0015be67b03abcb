"""``xenhvc scan`` output: a rich table of sites, the hazards explained, a summary by hypercall, or JSON."""
from __future__ import annotations

import io
import json
from collections import Counter, defaultdict


from . import ScanResult


def _label(site) -> str:
    if site.name is not None:
        return site.name
    if site.dynamic is not None:
        return "dynamic"
    return "?"


def summary(sites) -> list[dict]:
    """One row per hypercall (or SMCCC function) name: how many sites, in which ISAs, with hazards."""
    rows: dict[tuple[str, str], dict] = {}
    for s in sites:
        key = (s.kind, _label(s))
        row = rows.setdefault(key, {"kind": s.kind, "name": key[1], "number": s.number, "sites": 0,
                                    "isas": Counter(), "hazards": 0, "functions": []})
        row["sites"] += 1
        row["isas"][s.isa] += 1
        row["hazards"] += bool(s.hazards)
        if s.function and s.function not in row["functions"]:
            row["functions"].append(s.function)
    order = {"xen": 0, "smccc": 1, "other": 2}
    out = sorted(rows.values(), key=lambda r: (order[r["kind"]], r["number"] if r["number"] is not None else 1 << 64,
                                               r["name"]))
    for r in out:
        r["isas"] = dict(sorted(r["isas"].items()))
    return out


def to_json(results: list[ScanResult]) -> str:
    files = []
    for r in results:
        files.append({
            "file": r.target.path, "format": r.target.format, "notes": r.target.notes,
            "seconds": round(r.seconds, 4),
            "regions": [{"name": g.name, "base": g.base, "size": len(g.data), "isas": list(g.isas)}
                        for g in r.target.regions],
            "sites": [s.to_json() for s in r.sites],
            "summary": summary(r.sites),
        })
    return json.dumps(files if len(files) != 1 else files[0], indent=1) + "\n"


def render(results: list[ScanResult], width: int = 160, show_sites: bool = True, color: bool = False) -> str:
    from rich.console import Console
    from rich.markup import escape

    buf = io.StringIO()
    con = Console(file=buf, width=width, force_terminal=color, no_color=not color, highlight=False)
    for r in results:
        t = r.target
        xen = [s for s in r.sites if s.kind == "xen"]
        con.print(f"[bold]{escape(t.path)}[/bold]: {t.format}, {len(r.sites)} HVC site(s) "
                  f"({len(xen)} Xen #0xea1, {sum(s.kind == 'smccc' for s in r.sites)} SMCCC #0, "
                  f"{sum(s.kind == 'other' for s in r.sites)} other) in {r.seconds:.3f} s")
        for note in t.notes:
            con.print(escape(f"  note: {note}"))
        if show_sites and r.sites:
            con.print(_sites_table(r.sites, multi_region=len(t.regions) > 1))
        hazards = [(s, h) for s in r.sites for h in s.hazards]
        if hazards:
            con.print(f"[bold]Hazards ({len(hazards)})[/bold]")
            for s, h in hazards:
                where = f"{s.region}:{s.address:#x}" if len(t.regions) > 1 else f"{s.address:#x}"
                fn = f" in {s.function}" if s.function else ""
                con.print(escape(f"  {where}{fn} [{h.code}] {h.message}"))
        if r.sites:
            con.print(_summary_table(r.sites))
    return buf.getvalue()


def _sites_table(sites, multi_region: bool):
    from rich.markup import escape
    from rich.table import Table

    tab = Table(title="HVC call sites", title_justify="left", show_lines=False)
    if multi_region:
        tab.add_column("region")
    tab.add_column("address", justify="right")
    tab.add_column("ISA")
    tab.add_column("imm", justify="right")
    tab.add_column("nr / fid", justify="right")
    tab.add_column("name")
    tab.add_column("function")
    tab.add_column("set by")
    tab.add_column("hazards")
    for s in sites:
        nr = "-" if s.number is None else (str(s.number) if s.number < 1 << 16 else f"{s.number:#x}")
        name = s.name if s.name is not None else f"dynamic: {s.dynamic}"
        if not s.confident:
            name += " (bytes around it may be data)"
        setters = "; ".join(x.text for x in s.setters)
        row = [f"{s.address:#x}", s.isa, f"{s.imm:#x}", nr, name, s.function or "", setters,
               ", ".join(h.code for h in s.hazards)]
        if multi_region:
            row.insert(0, s.region)
        tab.add_row(*(escape(c) for c in row))
    return tab


def _summary_table(sites):
    from rich.markup import escape
    from rich.table import Table

    tab = Table(title="Summary by hypercall", title_justify="left")
    for col, j in (("kind", "left"), ("nr / fid", "right"), ("name", "left"), ("sites", "right"),
                   ("ISAs", "left"), ("with hazards", "right")):
        tab.add_column(col, justify=j)
    for r in summary(sites):
        nr = "" if r["number"] is None else (str(r["number"]) if r["number"] < 1 << 16 else f"{r['number']:#x}")
        tab.add_row(r["kind"], nr, escape(r["name"]), str(r["sites"]), " ".join(f"{k}:{v}" for k, v in r["isas"].items()),
                    str(r["hazards"]))
    return tab


def by_region_isa(sites) -> dict:
    out: dict = defaultdict(int)
    for s in sites:
        out[(s.region, s.isa)] += 1
    return dict(out)
