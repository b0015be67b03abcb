"""Stage-1 walks against hand-built tables, and against Unicorn's own MMU (QEMU's walker) for
guests that really run with translation on."""
import pytest

from xenhvc.cpu.stage1 import TranslationFault, walk_aarch64, walk_lpae, walk_short


class Phys:
    def __init__(self):
        self.mem: dict[int, int] = {}

    def put(self, addr: int, value: int, size: int = 8) -> None:
        self.mem[(addr, size)] = value

    def read(self, addr: int, size: int) -> int:
        return self.mem.get((addr, size), 0)


TCR_4K_39 = 25 | (1 << 23)  # T0SZ=25 (start at level 1), EPD1


def test_a64_4k_page_and_block():
    p = Phys()
    p.put(0x1000 + 8 * 1, 0x2000 | 3)  # L1[1] -> table at 0x2000 (VA 0x40000000..)
    p.put(0x2000 + 8 * 0, 0x3000 | 3)  # L2[0] -> table at 0x3000
    p.put(0x3000 + 8 * 5, 0x7000_5000 | 0x403)  # L3[5] -> page 0x70005000
    p.put(0x2000 + 8 * 1, 0x7020_0000 | 0x401)  # L2[1] -> 2 MiB block 0x70200000
    assert walk_aarch64(p.read, 0x4000_5123, TCR_4K_39, 0x1000, 0).pa == 0x7000_5123
    assert walk_aarch64(p.read, 0x4020_1234, TCR_4K_39, 0x1000, 0).pa == 0x7020_1234
    with pytest.raises(TranslationFault):
        walk_aarch64(p.read, 0x4000_6000, TCR_4K_39, 0x1000, 0)
    with pytest.raises(TranslationFault, match="outside"):
        walk_aarch64(p.read, 1 << 40, TCR_4K_39, 0x1000, 0)
    with pytest.raises(TranslationFault, match="EPD1"):
        walk_aarch64(p.read, 0xFFFF_FF80_0000_0000, TCR_4K_39, 0x1000, 0)


def test_a64_ttbr1_48bit_and_permissions():
    p = Phys()
    tcr = 16 | (16 << 16) | (0b10 << 30)  # 48-bit both halves, 4K
    va = 0xFFFF_0000_1234_5678
    idx = [(va >> s) & 0x1FF for s in (39, 30, 21, 12)]
    p.put(0x10000 + 8 * idx[0], 0x11000 | 3)
    p.put(0x11000 + 8 * idx[1], 0x12000 | 3 | (1 << 62))  # APTable[1]: read-only below
    p.put(0x12000 + 8 * idx[2], 0x13000 | 3)
    p.put(0x13000 + 8 * idx[3], 0x4444_0000 | 0x403)
    t = walk_aarch64(p.read, va, tcr, 0, 0x10000 | (5 << 48))  # an ASID in TTBR1 is ignored
    assert t.pa == 0x4444_0678 and not t.writable


def test_a64_64k_granule():
    p = Phys()
    tcr = 22 | (0b01 << 14) | (1 << 23)  # T0SZ=22 (42 bits), 64K: start at level 2
    p.put(0x20000 + 8 * 2, 0x30000 | 3)
    p.put(0x30000 + 8 * 3, 0x5000_0000 | 0x403)
    va = (2 << 29) | (3 << 16) | 0x1234
    assert walk_aarch64(p.read, va, tcr, 0x20000, 0).pa == 0x5000_1234


def test_lpae():
    p = Phys()
    p.put(0x4000 + 8 * 1, 0x5000 | 3)  # L1[1] (VA 0x40000000..) -> L2 table
    p.put(0x5000 + 8 * 0, 0x6000 | 3)
    p.put(0x6000 + 8 * 7, 0x8000_7000 | 0x403 | (1 << 7))  # read-only page
    t = walk_lpae(p.read, 0x4000_7010, 1 << 31, 0x4000, 0)
    assert t.pa == 0x8000_7010 and not t.writable


def test_short_descriptors():
    p = Phys()
    p.put(0x8000 + 4 * 0x400, 0x4010_0000 | 0x402 | (0b01 << 10), 4)  # section at VA 0x40000000, AP=01
    p.put(0x8000 + 4 * 0x401, 0x9000 | 1, 4)  # page table
    p.put(0x9000 + 4 * 3, 0x7777_7000 | 0x32, 4)  # small page, AP=11
    assert walk_short(p.read, 0x4001_2345, 0, 0x8000, 0).pa == 0x4011_2345
    assert walk_short(p.read, 0x4010_3abc, 0, 0x8000, 0).pa == 0x7777_7abc
    with pytest.raises(TranslationFault):
        walk_short(p.read, 0x1000, 0, 0x8000, 0)


def test_a64_walker_agrees_with_the_cpu():
    """A guest turns its MMU on with an identity map of its RAM plus an alias at 0x40200000; the
    CPU (QEMU's walker inside Unicorn) stores a marker through the alias; our walk of the alias
    leads to where the marker landed."""
    from unicorn.arm64_const import UC_ARM64_REG_TTBR0_EL1

    from xenhvc.cpu.machine import Machine
    from xenhvc.loader.image import parse_image
    from xenhvc.loader.place import MemoryBank, place_domain
    from xenhvc.testing import assemble_guest

    image = assemble_guest("a64", """
    adr x0, l1
    adr x1, l2
    orr x2, x1, #3
    str x2, [x0, #8]              // L1[1] -> l2 (VA 0x40000000-0x7fffffff)
    ldr x3, =0x70000401           // 2 MiB blocks, AF, identity from 0x70000000
    mov x4, #0x180
1:  str x3, [x1, x4, lsl #3]
    add x3, x3, #0x200000
    add x4, x4, #1
    cmp x4, #0x1c0
    b.ne 1b
    ldr x3, =0x70000401
    str x3, [x1, #8]              // alias: VA 0x40200000 -> PA 0x70000000
    msr ttbr0_el1, x0
    mov x0, #0xff
    msr mair_el1, x0
    ldr x0, =0x800019
    msr tcr_el1, x0
    isb
    mrs x0, sctlr_el1
    orr x0, x0, #1
    msr sctlr_el1, x0
    isb
    adr x5, marker
    ldr x7, =0x70000000
    sub x5, x5, x7
    ldr x7, =0x40200000
    add x5, x5, x7                // the marker's address through the alias
    ldr x6, =0x5eed1234abcd
    str x6, [x5]
2:  b 2b
    .ltorg
    .balign 8
marker: .quad 0
    .balign 4096
l1: .space 4096
l2: .space 4096
""")
    kernel = parse_image(image)
    bank = MemoryBank(0x70000000, 128 << 20)
    layout = place_domain(kernel, bank, 0x1000)
    m = Machine(kernel.arch, bank)
    m.load(layout.segments, ())
    m.boot(layout.entry, False, layout.dtb_addr)
    m.uc.emu_start(m.start, 0xFFFFFFFFFFFFFFFF, count=3000)
    tcr, ttbr0 = m.uc.cpr_read(3, 0, 2, 0, 2), m.uc.reg_read(UC_ARM64_REG_TTBR0_EL1)
    read = lambda a, n: int.from_bytes(m.uc.mem_read(a, n), "little")  # noqa: E731
    found = [off for off in range(0, len(image), 8) if read(layout.entry + off, 8) == 0x5EED1234ABCD]
    assert found, "the guest's store through the alias did not land in RAM"
    pa = layout.entry + found[0]
    assert walk_aarch64(read, 0x40200000 + (pa - 0x70000000), tcr, ttbr0, 0).pa == pa
    assert walk_aarch64(read, pa, tcr, ttbr0, 0).pa == pa  # the identity part
