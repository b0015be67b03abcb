"""``xenhvc stubs --isa a64|a32|t32 --form inline|outline --lang c|asm [-o FILE]``."""
from __future__ import annotations

import click

from .generate import FORMS, ISAS, LANGS, generate


@click.command("stubs")
@click.option("--isa", type=click.Choice(ISAS), required=True, help="Guest instruction set.")
@click.option("--form", type=click.Choice(FORMS), default="inline", show_default=True,
              help="inline: static inline functions / assembler macros; outline: AAPCS functions.")
@click.option("--lang", type=click.Choice(LANGS), default="c", show_default=True,
              help="c: a header; asm: an assembly file (outline) or macros (inline).")
@click.option("-o", "--output", default="-", show_default=True, help="Output file (- for stdout).")
@click.pass_obj
def stubs_cmd(io, isa, form, lang, output):
    """Generate Xen hypercall stubs for every hypercall in the 4.17 Arm table, plus
    privcmd_call(op, a1..a5), from xenhvc's ABI table."""
    text = generate(isa, form, lang)
    if output != "-":
        try:
            with open(output, "w", encoding="ascii") as f:
                f.write(text)
        except OSError as e:
            raise click.FileError(output, e.strerror) from None
    elif io is not None:
        io[0].write(text.encode())
        io[0].flush()
    else:
        click.echo(text, nl=False)
    return 0
