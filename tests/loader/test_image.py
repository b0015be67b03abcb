"""Image formats and bad input: every failure is one ImageError line."""
import gzip
import struct

import pytest

from xenhvc import ImageError, parse_image
from xenhvc.arch import aarch32, aarch64
from xenhvc.testing import assemble_guest

from tests.conftest import EXAMPLES


def arm64_image(body: bytes = b"\x00" * 64, text_offset: int = 0) -> bytes:
    head = struct.pack("<II", 0x14000010, 0) + struct.pack("<QQQ", text_offset, 64 + len(body), 0xA)
    head += bytes(24) + b"ARM\x64" + bytes(4)
    return head + body


def test_arm64_image():
    img = parse_image((EXAMPLES / "hello-a64.Image").read_bytes())
    assert img.format == "arm64-image" and img.arch is aarch64.ARCH and not img.compressed


def test_gzip_arm64_image():
    img = parse_image(gzip.compress(arm64_image(text_offset=0x80000)))
    assert img.format == "arm64-image" and img.compressed and img.text_offset == 0x80000


def test_zimage():
    img = parse_image((EXAMPLES / "hello-a32.zImage").read_bytes())
    assert img.format == "zimage" and img.arch is aarch32.ARCH and img.zimage_start == 0


def test_zimage_end_past_file():
    raw = bytearray((EXAMPLES / "hello-a32.zImage").read_bytes())
    raw[0x2C:0x30] = struct.pack("<I", len(raw) + 4)
    with pytest.raises(ImageError, match="zImage header says"):
        parse_image(bytes(raw))


@pytest.mark.parametrize("data,message", [
    (b"", "truncated"),
    (b"\x7fEL", "truncated"),
    (b"x" * 100, "no known magic"),
    (b"\x1f\x8b" + b"garbage" * 10, "corrupt gzip"),
    (gzip.compress(b"hello world, this is not a kernel" * 4), "no known magic"),
    (b"\x7fELF" + b"\x00" * 60, "corrupt ELF|not an Arm"),
    (b"\x7fELF\x02\x01\x01" + b"\x00" * 9 + b"\x02\x00\xb7\x00" + b"\xff" * 40, "corrupt ELF"),
])
def test_bad_images(data, message):
    with pytest.raises(ImageError, match=message):
        parse_image(data)


def _elf(tmp_path, isa: str, body: str, thumb: bool = False) -> bytes:
    """Link a snippet as an ELF at the dom0 RAM base with the cross toolchain."""
    import subprocess

    cross = "aarch64-linux-gnu-" if isa == "a64" else "arm-linux-gnueabihf-"
    src = tmp_path / "g.S"
    directive = "" if isa == "a64" else (".syntax unified\n.arch armv7-a\n.arch_extension virt\n" +
                                          (".thumb\n.thumb_func\n" if thumb else ".arm\n"))
    src.write_text(f"{directive}.globl _start\n_start:\n{body}\n")
    obj, elf = tmp_path / "g.o", tmp_path / "g.elf"
    flags = [] if isa == "a64" else ["-march=armv7ve"]
    subprocess.run([cross + "as", *flags, "-o", obj, src], check=True)
    subprocess.run([cross + "ld", "-Ttext=0x70010000", "-e", "_start", "-o", elf, obj], check=True)
    return elf.read_bytes()


def test_elf64(tmp_path):
    img = parse_image(_elf(tmp_path, "a64", "mov x0, #1\nb ."))
    assert img.format == "elf64" and img.arch is aarch64.ARCH and img.entry == 0x70010000


def test_elf32_thumb_entry(tmp_path):
    img = parse_image(_elf(tmp_path, "t32", "movs r0, #1\nb .", thumb=True))
    assert img.format == "elf32" and img.thumb and img.entry == 0x70010000


def test_elf32_wrong_machine(tmp_path):
    raw = bytearray(_elf(tmp_path, "a32", "mov r0, #1\nb ."))
    raw[18:20] = struct.pack("<H", 3)  # EM_386
    with pytest.raises(ImageError, match="not an Arm guest"):
        parse_image(bytes(raw))


def test_assembled_images_parse():
    for isa, fmt in (("a64", "arm64-image"), ("a32", "zimage"), ("t32", "zimage")):
        assert parse_image(assemble_guest(isa, "b .")).format == fmt
