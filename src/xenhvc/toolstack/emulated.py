"""The privcmd backend on the xenhvc model: a resident dom0 "kernel" that issues each request the
way Linux's privcmd driver does, through an out-of-line ``privcmd_call`` (the one ``xenhvc stubs
--form outline --lang asm`` generates) running on the emulated CPU.

The kernel (assembled with the cross binutils; A64, A32 or T32) is a loop::

    doorbell:  brk/bkpt            <- Python stops here, writes a struct privcmd_hypercall
               load op, arg[0..4] from the mailbox (AArch32: the low words, as Linux truncates
                                   __u64 to unsigned long; a4 and a5 pushed as stack arguments)
               bl privcmd_call     <- the generated stub moves them into x16/r12, x0-x4/r0-r4
               store the result in the mailbox, back to the doorbell

so every argument goes through the real AAPCS call and the stub's shuffle before Xen sees it.
Bounce buffers live in a region of the kernel image (guest RAM)."""
from __future__ import annotations

import ctypes

from ..errors import XenhvcError
from ..stubs import generate
from .privcmd import BumpAllocator, privcmd_hypercall

MAILBOX_RESULT = 48  # after the 48-byte struct privcmd_hypercall
STACK_SIZE = 0x2000
BOUNCE_OFFSET = 0x3000  # from the mailbox: one page of mailbox, two of stack, then the buffers
BOUNCE_SIZE = 0x10000

_LOOP = {
    "a64": """
    adr     x19, mailbox
    add     x9, x19, #{bounce}
    mov     sp, x9
    add     x20, x19, #{bounce}
doorbell:
    brk     #0x5e5
    ldp     x0, x1, [x19, #0]
    ldp     x2, x3, [x19, #16]
    ldp     x4, x5, [x19, #32]
    bl      privcmd_call
    str     x0, [x19, #48]
    b       doorbell
""",
    "a32": """
    adr     r5, 1f
    ldr     r6, [r5]
    add     r5, r5, r6              @ the mailbox, position independent (beyond adr's reach)
    b       2f
    .balign 4
1:  .word   mailbox - 1b
2:
    add     r6, r5, #{bounce}
    mov     sp, r6
doorbell:
    bkpt    #0x5e
    ldr     r0, [r5, #0]
    ldr     r1, [r5, #8]
    ldr     r2, [r5, #16]
    ldr     r3, [r5, #24]
    ldr     r7, [r5, #32]
    ldr     r8, [r5, #40]
    push    {{r7, r8}}
    bl      privcmd_call
    add     sp, sp, #8
    str     r0, [r5, #48]
    b       doorbell
""",
}
_LOOP["t32"] = _LOOP["a32"]
_DOORBELL_SIZE = {"a64": 4, "a32": 4, "t32": 2}
_MAILBOX_REG = {"a64": "x19", "a32": "r5", "t32": "r5"}


def kernel_source(isa: str) -> str:
    """The resident kernel's assembly (for :func:`xenhvc.testing.assemble_guest`)."""
    # everything stays in the image's one section (.text.head), so adr reaches the mailbox
    stubs = "\n".join(line for line in generate(isa, "outline", "asm").splitlines()
                      if line.strip() != ".text" and not line.strip().startswith(".section"))
    return (_LOOP[isa].format(bounce=f"{BOUNCE_OFFSET:#x}")
            + stubs
            + "\n    .balign 4096\nmailbox:\n    .space 4096\n"
            + f"    .space {STACK_SIZE}\n    .space {BOUNCE_SIZE}\n")


class EmulatorError(XenhvcError):
    """The resident kernel stopped: the domain shut down, crashed or hung."""


class GuestBuffer:
    def __init__(self, mem, addr: int, size: int):
        self.mem, self.addr, self.size = mem, addr, size

    def read(self, length: int | None = None, offset: int = 0) -> bytes:
        length = self.size - offset if length is None else length
        return self.mem.read_phys(self.addr + offset, length)

    def write(self, data: bytes, offset: int = 0) -> None:
        if offset + len(data) > self.size:
            raise ValueError("write past the end of the hypercall buffer")
        self.mem.write_phys(self.addr + offset, data)


class EmulatedPrivcmd:
    """A dom0 on the model with the resident kernel; ``ioctl_hypercall`` hands it one request."""

    def __init__(self, isa: str = "a64", *, domid: int = 0, debug_build: bool = False,
                 memory: int = 128 << 20, timeout: float = 10.0, preempt_every: int = 0):
        from ..cpu.machine import Limits, Machine
        from ..hypervisor.build import DEBIAN_4_17
        from ..hypervisor.context import NoInput
        from ..hypervisor.domain import make_domain
        from ..hypervisor.xen import Xen
        from ..loader.devicetree import DeviceTreeSpec, build_dtb
        from ..loader.image import parse_image
        from ..loader.place import MemoryBank, default_ram_base, place_domain
        from ..testing.asm import assemble_guest

        if isa not in _LOOP:
            raise ValueError(f"isa must be one of {tuple(_LOOP)}")
        self.isa = isa
        self.console = bytearray()
        self.log: list[str] = []
        self.warnings: list[str] = []
        kernel = parse_image(assemble_guest(isa, kernel_source(isa)))
        privileged = domid == 0
        bank = MemoryBank(default_ram_base(memory, privileged), memory)
        dtb = build_dtb(DeviceTreeSpec(bank=bank, bootargs="console=hvc0", privileged=privileged,
                                       evtchn_ppi=0 if privileged else 15))
        layout = place_domain(kernel, bank, len(dtb))
        self.machine = Machine(kernel.arch, bank)
        self.machine.load(layout.segments, ((layout.dtb_addr, dtb),))
        self.machine.boot(layout.entry, layout.thumb, layout.dtb_addr)
        from dataclasses import replace

        self.xen = Xen(kernel.arch, replace(DEBIAN_4_17, debug=debug_build), make_domain(domid), self.machine.mem,
                       self.machine.cpu, self.console.extend, NoInput(), self.log.append, tracing=True,
                       warn=self.warnings.append, memory_pages=memory >> 12, preempt_every=preempt_every)
        self.machine.attach(self.xen, debug_build)
        self.limits = Limits(None, timeout)
        self.arch = kernel.arch
        self.dead: str | None = None
        self._run_to_doorbell()
        regs = self.machine.regs
        self.mailbox = self.machine.uc.reg_read(regs[_MAILBOX_REG[isa]])
        self.buffers = BumpAllocator(self.mailbox + BOUNCE_OFFSET, BOUNCE_SIZE)

    @property
    def trace(self):
        """The model's decoded trace of every hypercall the kernel made."""
        return tuple(self.xen.trace)

    def _run_to_doorbell(self) -> None:
        """Run until the kernel rings the doorbell again. False if the domain stopped instead."""
        m = self.machine
        stop = m.run(self.xen, self.limits)
        trap = m.trap
        if trap.stop is not None and trap.stop[0] == "breakpoint":
            pc = trap.stop[1]
            trap.stop = None
            m.start = (pc + _DOORBELL_SIZE[self.isa]) | (1 if self.isa == "t32" else 0)
            return
        self.dead = stop.describe()

    def ioctl_hypercall(self, call: privcmd_hypercall) -> int:
        if self.dead is not None:
            raise EmulatorError(f"the emulated dom0 is gone: {self.dead}")
        mem = self.machine.mem
        mem.write_phys(self.mailbox, bytes(call))
        self._run_to_doorbell()
        if self.dead is not None:
            # the call ended the domain (e.g. SCHEDOP_shutdown): Xen's result is in x0/r0
            return self.arch.to_signed(self.machine.uc.reg_read(self.machine.regs[self.arch.result_reg]))
        raw = int.from_bytes(mem.read_phys(self.mailbox + MAILBOX_RESULT, self.arch.word_bits // 8), "little")
        return self.arch.to_signed(raw)

    def alloc_buffer(self, size: int) -> GuestBuffer:
        addr = self.buffers.alloc(size)
        buf = GuestBuffer(self.machine.mem, addr, size)
        buf.write(bytes(size))
        return buf

    def free_buffer(self, buf: GuestBuffer) -> None:
        self.buffers.free(buf.addr)

    def close(self) -> None:
        self.dead = self.dead or "closed"


assert ctypes.sizeof(privcmd_hypercall) == MAILBOX_RESULT
