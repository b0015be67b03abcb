"""python -m xenhvc.guestgen --isa a64|a32|t32 -o FILE"""
from __future__ import annotations

import argparse
import sys

from .header import ISAS, generate_header


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m xenhvc.guestgen",
                                description="Emit a C header of Xen hypercall wrappers.")
    p.add_argument("--isa", choices=ISAS, required=True)
    p.add_argument("-o", "--output", default="-", help="output file (default: stdout)")
    ns = p.parse_args(argv)
    text = generate_header(ns.isa)
    if ns.output == "-":
        sys.stdout.write(text)
    else:
        with open(ns.output, "w", encoding="ascii") as f:
            f.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
