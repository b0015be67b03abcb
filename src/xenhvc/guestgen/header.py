"""The header text. Generated from the ABI table; no engine imports."""
from __future__ import annotations

from .. import __version__
from ..abi.hypercalls import ARM_TABLE, INT, PTR, UINT, ULONG, Hypercall, HypercallSpec
from ..abi.xen import SMCCC_HVC_IMM, XEN_HYPERCALL_TAG

ISAS = ("a64", "a32", "t32")

#: C type of each parameter kind (hypercall-defs.c). On the 32-bit ISAs ``unsigned long`` and
#: pointers are 32 bits, which is what an AArch32 guest passes in r0-r4.
_CTYPE = {INT: "int", UINT: "unsigned int", ULONG: "unsigned long", PTR: "void *"}

_REGS = {
    "a64": {"nr": "x16", "args": ("x0", "x1", "x2", "x3", "x4"),
            "smc": ("x0", "x1", "x2", "x3", "x4", "x5", "x6", "x7"),
            "smc_clobber": ('"x8"', '"x9"', '"x10"', '"x11"', '"x12"', '"x13"', '"x14"',
                            '"x15"', '"x16"', '"x17"')},
    "a32": {"nr": "r12", "args": ("r0", "r1", "r2", "r3", "r4"),
            "smc": ("r0", "r1", "r2", "r3", "r4", "r5", "r6", "r7"),
            "smc_clobber": ('"r12"',)},
}
_REGS["t32"] = _REGS["a32"]

_ISA_CHECK = {
    "a64": "#if !defined(__aarch64__)\n#error \"this header is for AArch64 (a64)\"\n#endif",
    "a32": "#if !defined(__arm__) || defined(__thumb__)\n#error \"this header is for AArch32 ARM state (a32)\"\n#endif",
    "t32": "#if !defined(__arm__) || !defined(__thumb2__)\n#error \"this header is for AArch32 Thumb-2 (t32)\"\n#endif",
}


def _hvc_asm(imm: int) -> str:
    return f'"hvc #{imm:#x}"'


def _wrapper(isa: str, spec: HypercallSpec) -> str:
    regs = _REGS[isa]
    params = [f"{_CTYPE[k]} a{i + 1}" for i, k in enumerate(spec.params)]
    lines = [f"/* {spec.name} ({int(spec.number)}), Arm 4.17 handler: {spec.handler.value}, "
             f"{spec.arity} argument(s) */",
             f"static inline long HYPERVISOR_{spec.name}({', '.join(params) or 'void'})", "{"]
    lines.append(f'    register unsigned long __nr __asm__("{regs["nr"]}") = __HYPERVISOR_{spec.name};')
    outs = []
    # x0/r0 carries the result, so it is always an operand even for a 0-argument call.
    for i in range(max(spec.arity, 1)):
        init = f"(unsigned long)a{i + 1}" if i < spec.arity else "0"
        lines.append(f'    register unsigned long __a{i + 1} __asm__("{regs["args"][i]}") = {init};')
        outs.append(f'"+r"(__a{i + 1})')
    outs.append('"+r"(__nr)')
    lines.append(f"    __asm__ __volatile__({_hvc_asm(XEN_HYPERCALL_TAG)}")
    lines.append(f"                         : {', '.join(outs)}")
    lines.append("                         :")
    lines.append('                         : "memory");')
    lines.append("    return (long)__a1;")
    lines.append("}")
    return "\n".join(lines)


def _generic(isa: str) -> str:
    regs = _REGS[isa]
    a = regs["args"]
    body = [
        "/* Any hypercall number with five arguments (unused ones are passed as given). */",
        "static inline long xen_hypercall5(unsigned long nr, unsigned long a1, unsigned long a2,",
        "                                  unsigned long a3, unsigned long a4, unsigned long a5)",
        "{",
        f'    register unsigned long __nr __asm__("{regs["nr"]}") = nr;',
    ]
    for i in range(5):
        body.append(f'    register unsigned long __a{i + 1} __asm__("{a[i]}") = a{i + 1};')
    body += [
        f"    __asm__ __volatile__({_hvc_asm(XEN_HYPERCALL_TAG)}",
        '                         : "+r"(__a1), "+r"(__a2), "+r"(__a3), "+r"(__a4), "+r"(__a5), "+r"(__nr)',
        "                         :",
        '                         : "memory");',
        "    return (long)__a1;",
        "}",
    ]
    return "\n".join(body)


def _smccc(isa: str) -> str:
    regs = _REGS[isa]
    s = regs["smc"]
    body = [
        "/* SMCCC call over hvc #0: function id and arguments in x0-x7/r0-r7, results x0-x3/r0-r3. */",
        "struct smccc_res { unsigned long a0, a1, a2, a3; };",
        "static inline void smccc(unsigned long fid, unsigned long a1, unsigned long a2, unsigned long a3,",
        "                         unsigned long a4, unsigned long a5, unsigned long a6, unsigned long a7,",
        "                         struct smccc_res *res)",
        "{",
        f'    register unsigned long __r0 __asm__("{s[0]}") = fid;',
    ]
    if isa == "t32":
        # r7 is the Thumb frame pointer: it cannot be an asm register variable when a frame
        # pointer is in use, so it is loaded and restored inside the asm statement.
        for i in range(1, 7):
            body.append(f'    register unsigned long __r{i} __asm__("{s[i]}") = a{i};')
        body += [
            '    __asm__ __volatile__("push {r7}\\n\\tmov r7, %[a7]\\n\\t" "hvc #0" "\\n\\tpop {r7}"',
            '                         : "+r"(__r0), "+r"(__r1), "+r"(__r2), "+r"(__r3),',
            '                           "+r"(__r4), "+r"(__r5), "+r"(__r6)',
            '                         : [a7] "r"(a7)',
            f'                         : {", ".join(regs["smc_clobber"])}, "memory");',
        ]
    else:
        for i in range(1, 8):
            body.append(f'    register unsigned long __r{i} __asm__("{s[i]}") = a{i};')
        body += [
            f"    __asm__ __volatile__({_hvc_asm(SMCCC_HVC_IMM)}",
            '                         : "+r"(__r0), "+r"(__r1), "+r"(__r2), "+r"(__r3),',
            '                           "+r"(__r4), "+r"(__r5), "+r"(__r6), "+r"(__r7)',
            "                         :",
            f'                         : {", ".join(regs["smc_clobber"])}, "memory");',
        ]
    body += [
        "    res->a0 = __r0; res->a1 = __r1; res->a2 = __r2; res->a3 = __r3;",
        "}",
    ]
    return "\n".join(body)


def _privcmd() -> str:
    args = ", ".join(f"unsigned long a{i}" for i in range(1, 6))
    return "\n".join([
        "/* Linux's privcmd_call(op, a1..a5): the number is the first C argument. */",
        f"static inline long privcmd_call(unsigned long op, {args})",
        "{",
        "    return xen_hypercall5(op, a1, a2, a3, a4, a5);",
        "}",
    ])


def generate_header(isa: str, command: str | None = None) -> str:
    """The inline header. ``command`` is what the banner says produced it (``xenhvc stubs ...``
    or, by default, ``python -m xenhvc.guestgen ...``)."""
    if isa not in ISAS:
        raise ValueError(f"isa must be one of {ISAS}")
    guard = f"XENHVC_HYPERCALL_{isa.upper()}_H"
    command = command or f"python -m xenhvc.guestgen --isa {isa}"
    out = [
        f"/* hypercall-{isa}.h: GENERATED by xenhvc {__version__} ({command})",
        " * from xenhvc.abi.hypercalls.ARM_TABLE (Xen 4.17 Arm hypercall table). Do not edit.",
        " *",
        " * Xen hypercall ABI: number in x16/r12, arguments in x0-x4/r0-r4, result in x0/r0,",
        f" * hvc #{XEN_HYPERCALL_TAG:#x}. Argument registers and the number register are treated as",
        " * clobbered (they are \"+r\" operands), plus a \"memory\" clobber. */",
        f"#ifndef {guard}",
        f"#define {guard}",
        "",
        _ISA_CHECK[isa],
        "",
        f"#define XEN_HYPERCALL_TAG {XEN_HYPERCALL_TAG:#x}",
    ]
    out += [f"#define __HYPERVISOR_{h.name} {int(h.value)}" for h in Hypercall]
    out.append("")
    out.append(_generic(isa))
    out.append("")
    out.append(_privcmd())
    out.append("")
    for spec in sorted(ARM_TABLE.values(), key=lambda s: int(s.number)):
        out.append(_wrapper(isa, spec))
        out.append("")
    out.append(_smccc(isa))
    out.append("")
    out.append(f"#endif /* {guard} */")
    return "\n".join(out) + "\n"
