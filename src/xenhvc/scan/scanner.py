"""Find every HVC call site in a target: candidates by encoding, then a decoded window before each."""
from __future__ import annotations

import re

from ..abi.hypercalls import ARM_TABLE, NR_HYPERCALLS, ArmHandler, hypercall_name
from .analyze import ARG_REGS, Resolver, Value
from .decode import (MAX_FUNCTION_PREFIX, WINDOW, convert, decode_after, decode_window, detail, disassembler,
                     lite_ends_flow, lite_target)
from .find import find_candidates
from .model import NUMBER_REG, XEN_TAG, Hazard, Region, SetInsn, Site, Target

#: arity of numbers the 4.17 Arm build does not configure but that other builds have
_EXTRA_ARITY = {39: 5, 41: 3}


def scan_target(target: Target) -> list[Site]:
    sites: list[Site] = []
    for region in target.regions:
        sites.extend(scan_region(region))
    sites.sort(key=lambda s: (s.region, s.address))
    return sites


def scan_region(region: Region) -> list[Site]:
    out: list[Site] = []
    isas = set(region.isas)
    # with mapping symbols, also look for the other AArch32 state's HVC: it shows an encoding in the wrong state
    look = sorted(isas | ({"a32", "t32"} if region.isa_map is not None and isas & {"a32", "t32"} else set()))
    for isa in look:
        for off, imm in find_candidates(region.data, isa, region.base):
            addr = region.base + off
            mapped = region.isa_at(addr)
            wrong_state = None
            if region.isa_map is not None:
                if mapped == "data":
                    # a hand-encoded HVC (.long/.word, as Mini-OS does) inside a function runs as code
                    func = region.function_at(addr)
                    mapped = func.isa if func is not None and func.end > addr else None
                if mapped is None:
                    continue
                if mapped != isa:
                    if {mapped, isa} != {"a32", "t32"}:
                        continue
                    wrong_state = mapped
            out.append(_site(region, isa, addr, imm, wrong_state))
    if region.isa_map is None and len(isas) > 1:
        _disambiguate(out)
    return out


def _site(region: Region, isa: str, addr: int, imm: int, wrong_state: str | None) -> Site:
    func = region.function_at(addr) if region.functions else None
    site = Site(addr, isa, imm, region.name, function=func.name if func else None)
    if wrong_state is not None:
        site.hazards.append(_wrong_state(isa, wrong_state, addr))
        site.dynamic = "the HVC is not executed as an HVC (wrong instruction-set state)"
        return site
    lo = addr - WINDOW
    fstart = func.start if func is not None and addr - func.start <= MAX_FUNCTION_PREFIX else None
    if fstart is not None:
        lo = fstart
    if region.isa_map is not None:
        lo = max(lo, region.isa_start(addr))
    lo = max(lo, region.base)
    step = 2 if isa == "t32" else 4
    lo += (addr - lo) % step
    insns, skipped = decode_window(isa, region.data, region.base, lo, addr) if lo < addr else ([], 0)
    cut_at = next((j for j in range(len(insns) - 1, -1, -1) if lite_ends_flow(isa, insns[j])), None)
    cut = cut_at is not None
    run_start = insns[cut_at + 1].address if cut_at is not None and cut_at + 1 < len(insns) else \
        (addr if cut else (insns[0].address if insns else addr))
    run = detail(isa, region.data, region.base, run_start, addr) if run_start < addr else []
    at_start = cut or (fstart is not None and bool(insns) and insns[0].address == fstart and skipped == 0) \
        or (fstart == addr)
    after = decode_after(isa, region.data, region.base, addr + 4, 2)
    site.confident = _plausible(insns, skipped, lo, addr, region, after)

    def read_mem(a: int, size: int) -> int | None:
        o = a - region.base
        if 0 <= o and o + size <= len(region.data):
            return int.from_bytes(region.data[o:o + size], "little")
        return None

    res = Resolver(isa, run, read_mem, at_start)
    # SMCCC (#0): the function id in x0/r0; Xen's tag, or a wrong immediate: the number register
    reg = ("x0" if isa == "a64" else "r0") if imm == 0 else NUMBER_REG[isa]
    value = res.resolve(reg, len(run))
    site.setters = [SetInsn(i.address, i.size, i.text) for i in sorted(value.setters, key=lambda i: i.address)]
    if value.const is not None:
        site.number = value.const
    else:
        site.dynamic = value.reason
        site.number_source = value.source_reg
    site.shuffles = _shuffles(isa, run)
    if imm == XEN_TAG:
        site.hazards.extend(_hazards(isa, site, value, run, insns, region, addr, at_start, fstart))
    elif imm != 0:
        site.hazards.append(_wrong_imm(imm))
    return site


def _plausible(insns, skipped, lo, addr, region, after) -> bool:
    """Do the bytes around the candidate look like code? The two instructions before it decode
    (or it starts its region or follows a return/branch), and the one after it decodes."""
    if not after:
        return False
    if lo >= addr:
        return True
    return bool(insns)


def _disambiguate(sites: list[Site]) -> None:
    """Raw AArch32 code: A32 and T32 candidates were both looked for. A candidate with a wrong
    immediate in a state that has no Xen or SMCCC site with a number or a setter while the other state
    has some is most likely data decoded in the wrong state: it is marked unsure, not dropped."""
    anchored = {isa: sum(1 for s in sites if s.isa == isa and s.kind != "other" and (s.number is not None or s.setters))
                for isa in ("a32", "t32")}
    for s in sites:
        other = "t32" if s.isa == "a32" else "a32"
        if s.kind == "other" and anchored.get(s.isa, 0) == 0 and anchored.get(other, 0) > 0:
            s.confident = False


# ---- hazards ---------------------------------------------------------------------------------

def _wrong_imm(imm: int) -> Hazard:
    text = (f"hvc #{imm:#x} is neither Xen's hypercall tag #0xea1 nor #0 (SMCCC/PSCI): Xen 4.17 makes no "
            "hypercall, it injects an undefined-instruction exception into the guest")
    if imm & 0xFF00 == 0xFF00:
        text += f" (a debug build of Xen treats #0xff00-#0xffff as a debug trap instead)"
    return Hazard("wrong-immediate", text)


def _wrong_state(isa: str, mapped: str, addr: int) -> Hazard:
    here = {"a32": "Arm (A32)", "t32": "Thumb (T32)"}
    return Hazard("thumb-encoding",
                  f"the {here[isa]} encoding of HVC at {addr:#x} sits in {here[mapped]} code (mapping "
                  f"symbols): the CPU decodes these bytes as other {here[mapped]} instructions, so no "
                  "hypercall happens. Emit the HVC (and the number's mov) in the state the code runs in, "
                  "e.g. with the assembler's `hvc #0xea1` rather than a hand-encoded .long/.word")


def _hazards(isa: str, site: Site, value: Value, run, insns, region: Region, addr: int,
             at_start: bool, fstart: int | None) -> list[Hazard]:
    out: list[Hazard] = []
    nreg = NUMBER_REG[isa]
    if site.number is not None:
        nr = site.number
        spec = ARM_TABLE.get(nr)
        if spec is None:
            why = ("it is at or above NR_HYPERCALLS (43), so it never reaches a handler"
                   if nr >= NR_HYPERCALLS else f"{hypercall_name(nr)} is not in the Arm 4.17 table")
            out.append(Hazard("number-not-in-table",
                              f"{nreg} = {nr} ({hypercall_name(nr)}): {why}; Xen 4.17 on Arm returns -ENOSYS"))
        elif spec.handler is ArmHandler.DEP:
            out.append(Hazard("number-not-in-table",
                              f"{nreg} = {nr} ({spec.name}) is a deprecated hypercall on Arm: Xen 4.17 always "
                              "returns -ENOSYS"))
    # a call, branch or branch target between the first write of the number register and the HVC
    own = [s for s in value.setters if nreg in s.writes]  # writes of the number register itself
    if own:
        first = min(s.address for s in own)
        between = [i for i in run if first < i.address < addr]
        for i in between:
            if i.is_call:
                out.append(Hazard("veneer-window",
                                  f"{nreg} is set at {first:#x} but the call at {i.address:#x} ({i.text}) comes "
                                  f"before the HVC: the callee, and any linker veneer inserted for that call "
                                  f"(long-branch or Arm/Thumb interworking stub), may clobber {nreg} "
                                  "(IP0/IP is scratch in AAPCS), so the HVC can see another number. Set the "
                                  "number immediately before the HVC"))
                break
            if i.is_branch:
                out.append(Hazard("veneer-window",
                                  f"{nreg} is set at {first:#x} but the branch at {i.address:#x} ({i.text}) lies "
                                  f"between it and the HVC: if the linker routes that branch through a veneer, "
                                  f"{nreg} may be clobbered; set the number after the last branch"))
                break
        targets = {lite_target(isa, i) for i in insns} - {None} | set(region.labels)
        inside = sorted(t for t in targets if first < t <= addr)
        if inside:
            t = inside[0]
            out.append(Hazard("veneer-window",
                              f"{t:#x} (a branch target or label) lies between setting {nreg} at {first:#x} "
                              f"and the HVC at {addr:#x}: a path that enters there reaches the HVC with "
                              f"whatever {nreg} holds, possibly clobbered by a veneer on the way"))
    elif value.via_call is not None:
        out.append(Hazard("veneer-window",
                          f"{nreg} is not set after the call at {value.via_call.address:#x} "
                          f"({value.via_call.text}): the callee or a linker veneer may have changed it, so "
                          "the HVC's number is unknown"))
    if isa == "t32" and site.number is None:
        a32 = _a32_setter_before(region, addr)
        if a32 is not None:
            out.append(Hazard("thumb-encoding",
                              f"the bytes before this Thumb HVC encode the Arm (A32) instruction `{a32}`, which "
                              f"Thumb cannot encode that way: in Thumb state they execute as other "
                              f"instructions and {nreg} is never set. Assemble the stub in Thumb "
                              "(mov.w/movw ip, #nr) or switch to Arm state"))
    if isa in ("a32", "t32"):
        entry_known = bool(insns) and insns[0].address == fstart if fstart is not None else False
        h = _r4_hazard(isa, site, run, insns, at_start, entry_known)
        if h is not None:
            out.append(h)
    return out


def _a32_setter_before(region: Region, addr: int) -> str | None:
    for back in (4, 6, 8):
        a = addr - back
        o = a - region.base
        if o < 0 or a % 4:
            continue
        for ins in disassembler("a32").disasm(bytes(region.data[o:o + 4]), a):
            i = convert(ins, "a32")
            if "r12" in i.writes and i.mnemonic in ("mov", "movw") and i.ops and i.ops[-1][0] == "imm":
                return i.text
    return None


def _arity(nr: int | None) -> int | None:
    if nr is None:
        return None
    spec = ARM_TABLE.get(nr)
    return spec.arity if spec is not None else _EXTRA_ARITY.get(nr)


def _r4_hazard(isa: str, site: Site, run, insns, at_start: bool, entry_known: bool) -> Hazard | None:
    """A 5-argument site that puts the 5th argument in r4 without saving r4 first (r4 is callee-saved
    in AAPCS and Xen overwrites it: debug builds poison it, continuations rewrite it)."""
    arity = _arity(site.number)
    if arity is not None and arity < 5:
        return None
    loads_r4 = [i for i in run if "r4" in i.writes and i.mnemonic.startswith("ldr")]
    if not loads_r4:
        return None
    first = loads_r4[0]
    if entry_known:
        if any(_saves_r4(i) for i in insns if i.address < first.address):  # Lite: text only
            return None
    else:
        # no symbols: only the unmistakable stub, which reads the caller's 5th argument at [sp] on
        # entry, before anything has moved sp (a saved r4 would have moved it)
        if not at_start or not any(o[0] == "mem" and o[1] == "r13" and o[3] == 0 for o in first.ops):
            return None
        if any("r13" in i.writes for i in run if i.address < first.address):
            return None
    what = f"{site.name} takes 5 arguments" if arity == 5 else "the hypercall number is not fixed here, so it may take 5 arguments"
    return Hazard("r4-not-preserved",
                  f"{what} and this stub loads the 5th into r4 ({first.text} at {first.address:#x}) without "
                  "saving r4 first: r4 is callee-saved in AAPCS, and Xen may change it (a debug build writes "
                  "0xDEADBEEF into it, a continuation rewrites it), so the caller's r4 is corrupted. Save and "
                  "restore it around the HVC (push {r4} ... pop {r4}), as Linux's HYPERCALL5 does")


_R4 = re.compile(r"\br4\b|r[0-3]\s*-\s*r(?:[4-9]|1[0-2])\b")


def _saves_r4(i) -> bool:
    """push {.., r4, ..} / stmdb sp!, {..} / str r4, [sp, ...] (from the instruction's text)."""
    m = i.mnemonic.split(".")[0]
    if m in ("push", "stmdb", "stmfd"):
        return bool(_R4.search(i.op_str))
    return m.startswith("str") and i.op_str.startswith("r4,") and "[sp" in i.op_str


def _shuffles(isa: str, run) -> int:
    """Register-to-register moves among the argument and number registers right before the HVC:
    what an out-of-line stub spends moving the C arguments into Xen's registers."""
    regs = set(ARG_REGS[isa]) | {NUMBER_REG[isa], "r4"}
    n = 0
    for i in reversed(run):
        if i.mnemonic == "mov" and len(i.ops) == 2 and i.ops[0][0] == "reg" and i.ops[1][0] == "reg" \
                and i.ops[0][1] in regs and i.ops[1][1] in regs:
            n += 1
    return n
