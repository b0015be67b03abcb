"""AArch32 guests (A32 and T32): r12 carries the number, r0-r4 the arguments, r0 the result."""
from . import Arch, HvcEncoding

ARCH = Arch(
    name="aarch32",
    word_bits=32,
    number_reg="r12",
    arg_regs=("r0", "r1", "r2", "r3", "r4"),
    result_reg="r0",
    pointer_size=4,
    hvc=(HvcEncoding("a32", 0xE1400070), HvcEncoding("t32", 0)),
    smccc_regs=("r0", "r1", "r2", "r3", "r4", "r5", "r6", "r7"),
)
