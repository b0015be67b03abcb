"""AArch64 guests: x16 carries the number, x0-x4 the arguments, x0 the result."""
from . import Arch, HvcEncoding

ARCH = Arch(
    name="aarch64",
    word_bits=64,
    number_reg="x16",
    arg_regs=("x0", "x1", "x2", "x3", "x4"),
    result_reg="x0",
    pointer_size=8,
    hvc=(HvcEncoding("a64", 0xD4000002),),
    smccc_regs=("x0", "x1", "x2", "x3", "x4", "x5", "x6", "x7"),
)
