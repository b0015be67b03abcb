"""A zImage's timer accesses: its own code is rewritten at load, its compressed kernel is not (a
rewritten word would break decompression), and the decompressed kernel is rewritten in RAM at the
guest's first trap."""
from xenhvc.arch import aarch32
from xenhvc.cpu.machine import Machine
from xenhvc.loader.image import Segment, zimage_code_end
from xenhvc.loader.place import MemoryBank

MRRC_CNTVCT = (0xEC532F1E).to_bytes(4, "little")  # mrrc p15, 1, r2, r3, c14


def test_the_code_before_the_first_stream_magic():
    assert zimage_code_end(b"\0" * 64) == 64
    assert zimage_code_end(b"\0" * 8 + b"\xfd7zXZ\x00" + b"\1" * 8) == 8
    assert zimage_code_end(b"\0" * 4 + b"\x5d\x00\x00" + b"\x1f\x8b\x08") == 7  # LZMA's magic is not looked for


def test_only_the_decompressor_is_rewritten_at_load_and_ram_below_the_modules_at_the_first_trap():
    bank = MemoryBank(0x70000000, 0x1000000)
    image = MRRC_CNTVCT + b"\x1f\x8b\x08\x00" + MRRC_CNTVCT  # code, then a "compressed" stream
    m = Machine(aarch32.ARCH, bank)
    m.patch_after_decompression(0x70400000, zimage_code_end(image))  # below the zImage, as Xen places it
    m.load((Segment(0x70400000, image, len(image)),), ())
    at = 0x400000
    assert m.ram[at:at + 4] != MRRC_CNTVCT  # the decompressor's access: a UDF
    assert m.ram[at + 8:at + 12] == MRRC_CNTVCT  # inside the stream: untouched
    m.ram[0x8000:0x8004] = MRRC_CNTVCT  # "decompressed" kernel text
    m._late_patch()
    assert m.ram[0x8000:0x8004] != MRRC_CNTVCT
    assert m.ram[at + 8:at + 12] == MRRC_CNTVCT  # the zImage itself is above the rewritten RAM
