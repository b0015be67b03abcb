"""``xenhvc density``: what setting the hypercall number costs, from real code.

Per Xen call site (``hvc #0xea1``):

* **as compiled**: the bytes of the instructions that put the number into x16/r12 (the chain the
  backward analysis found: ``mov``, ``movw``+``movt``, a literal load, a register copy).
* **best in x16/r12**: the shortest encoding that register allows: 4 bytes everywhere (A64 and A32
  have only 4-byte instructions; Thumb's 16-bit ``movs``/``mov`` immediate only reaches r0-r7, so
  r12 needs the 32-bit ``mov.w``/``movw``); a register copy costs 2 in T32 (16-bit ``mov ip, rN``).
* **in r7 (T32)**: the same number in a low register: a 16-bit ``movs r7, #nr`` for nr < 256, 4
  bytes (``movw``) below 65536, 8 above; a copy is a 16-bit ``mov``. A64 and A32 gain nothing from
  another register, so their column equals "best in x16/r12".
* **out-of-line**: sites whose number arrives in an argument register (a generic stub such as
  ``privcmd_call``): how many, the register moves they make before the HVC (the shuffle), and how
  many of them would also have to save and restore r7 (callee-saved in AAPCS) if the number
  travelled there.
"""
from __future__ import annotations

import io
from dataclasses import asdict, dataclass

from .analyze import ARG_REGS


@dataclass
class IsaDensity:
    isa: str
    sites: int = 0
    static: int = 0
    dynamic: int = 0
    compiled_bytes: int = 0
    best_numreg_bytes: int = 0
    r7_bytes: int = 0
    out_of_line: int = 0
    shuffle_moves: int = 0
    r7_saves: int = 0  # out-of-line sites that would need push/pop {r7}
    files: int = 0

    @property
    def saving(self) -> int:
        return self.compiled_bytes - self.r7_bytes


def _r7_cost(isa: str, site, compiled: int) -> int:
    if isa != "t32":
        return _best_numreg(isa, site, compiled)
    if site.number is not None:
        n = site.number
        return 2 if n < 256 else 4 if n < 65536 else 8
    if site.number_source is not None and len(site.setters) == 1 and site.setters[0].text.startswith("mov"):
        return 2
    return compiled


def _best_numreg(isa: str, site, compiled: int) -> int:
    if site.number is not None:
        n = site.number
        if isa == "a64":
            return 4 * max(1, sum(1 for k in range(4) if (n >> (16 * k)) & 0xFFFF)) if n else 4
        return 4 if n < 65536 else 8
    if isa == "t32" and site.number_source is not None and len(site.setters) == 1:
        return 2
    return compiled


def density(results) -> list[IsaDensity]:
    rows: dict[str, IsaDensity] = {}
    for r in results:
        seen = set()
        for s in r.sites:
            if s.kind != "xen" or not s.confident:
                continue
            d = rows.setdefault(s.isa, IsaDensity(s.isa))
            if s.isa not in seen:
                d.files += 1
                seen.add(s.isa)
            d.sites += 1
            compiled = sum(x.size for x in s.setters)
            if s.number is not None:
                d.static += 1
            else:
                d.dynamic += 1
            d.compiled_bytes += compiled
            d.best_numreg_bytes += _best_numreg(s.isa, s, compiled)
            d.r7_bytes += _r7_cost(s.isa, s, compiled)
            if s.number is None and s.number_source in ARG_REGS[s.isa]:
                d.out_of_line += 1
                d.shuffle_moves += s.shuffles
                if s.isa in ("a32", "t32"):
                    d.r7_saves += 1
    return [rows[k] for k in ("a64", "a32", "t32") if k in rows]


def render(rows: list[IsaDensity], width: int = 140) -> str:
    from rich.console import Console
    from rich.table import Table

    buf = io.StringIO()
    con = Console(file=buf, width=width, no_color=True, highlight=False)
    tab = Table(title="Bytes spent setting the hypercall number (Xen #0xea1 sites)", title_justify="left")
    for col in ("ISA", "sites", "static", "dynamic", "as compiled", "best in x16/r12", "in r7 (T32)",
                "saved by r7", "out-of-line sites", "shuffle moves", "would save r7"):
        tab.add_column(col, justify="left" if col == "ISA" else "right")
    for d in rows:
        tab.add_row(d.isa, str(d.sites), str(d.static), str(d.dynamic), str(d.compiled_bytes),
                    str(d.best_numreg_bytes), str(d.r7_bytes), str(d.saving), str(d.out_of_line),
                    str(d.shuffle_moves), str(d.r7_saves) if d.isa != "a64" else "-")
    con.print(tab)
    con.print("as compiled: the instructions that set x16/r12 in the binary; in r7: a 16-bit movs for "
              "numbers < 256 in Thumb (A64/A32 instructions are all 4 bytes, so no change there); "
              "out-of-line: sites whose number arrives in an argument register (generic stubs), their "
              "register moves before the HVC, and how many would have to push/pop r7 (callee-saved).")
    return buf.getvalue()


def as_json(rows: list[IsaDensity]) -> list[dict]:
    return [dict(asdict(d), saving=d.saving) for d in rows]


def plot(rows: list[IsaDensity], path: str) -> None:
    """A grouped bar chart (matplotlib, the optional ``plot`` extra) written to ``path``."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        from ..errors import ToolMissingError

        raise ToolMissingError("--plot needs matplotlib: pip install 'xenhvc[plot]'") from None
    labels = [d.isa for d in rows]
    series = (("as compiled", [d.compiled_bytes for d in rows]),
              ("best in x16/r12", [d.best_numreg_bytes for d in rows]),
              ("in r7", [d.r7_bytes for d in rows]))
    fig, ax = plt.subplots(figsize=(7, 4))
    w = 0.26
    for k, (name, vals) in enumerate(series):
        bars = ax.bar([i + (k - 1) * w for i in range(len(labels))], vals, w, label=name)
        ax.bar_label(bars, fontsize=8)
    ax.set_xticks(range(len(labels)), labels)
    ax.set_ylabel("bytes setting the number register (sum over sites)")
    ax.set_title("Hypercall number: x16/r12 as compiled vs. r7")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
