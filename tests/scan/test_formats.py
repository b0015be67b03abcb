"""Image formats: gzip'd arm64 Image, zImage payloads compressed as Linux compresses them."""
import gzip
import lzma
import struct

import pytest

from xenhvc.arch import aarch32, aarch64
from xenhvc.errors import ImageError
from xenhvc.scan import scan_file
from xenhvc.scan.formats import parse_target
from xenhvc.scan.scanner import scan_target

A32_HVC = aarch32.ARCH.hvc[0].encode
MOV_R12_18 = (0xE3A0C012).to_bytes(4, "little")
BX_LR = (0xE12FFF1E).to_bytes(4, "little")
MOV_R0_0 = (0xE3A00000).to_bytes(4, "little")


def kernel_blob() -> bytes:
    """A 'decompressed kernel': padding code, then a console_io stub at 0x1000."""
    nop = (0xE1A00000).to_bytes(4, "little")
    body = nop * 0x400 + MOV_R12_18 + A32_HVC(0xEA1) + BX_LR
    return body + bytes(range(256)) * 64


def zimage(payload: bytes) -> bytes:
    """A zImage: header (magic at 0x24, start/end at 0x28/0x2c), a 'decompressor' with an SMCCC hvc #0,
    then the compressed payload and the 4-byte decompressed size, as arch/arm/boot/compressed lays it out."""
    head = bytearray(b"\0" * 0x30)
    head[:4] = (0xE1A00000).to_bytes(4, "little")
    code = MOV_R0_0 + A32_HVC(0) + BX_LR
    body = bytes(head) + code
    total = body + payload + struct.pack("<I", len(kernel_blob()))
    total += b"\0" * (-len(total) % 4)
    out = bytearray(total)
    struct.pack_into("<III", out, 0x24, 0x016F2818, 0, len(out))
    return bytes(out)


def lz4_legacy(data: bytes) -> bytes:
    lz4_block = pytest.importorskip("lz4.block")
    out = b"\x02\x21\x4c\x18"
    for i in range(0, len(data), 8 << 20):
        c = lz4_block.compress(data[i:i + (8 << 20)], store_size=False)
        out += struct.pack("<I", len(c)) + c
    return out


def lzop(data: bytes) -> bytes:
    """What the kernel's build does for CONFIG_KERNEL_LZO: ``lzop -9``."""
    import shutil
    import subprocess

    if shutil.which("lzop") is None:
        pytest.skip("lzop is not installed (scripts/setup.sh installs it)")
    pytest.importorskip("lzo")
    return subprocess.run(["lzop", "-9", "-c"], input=data, capture_output=True, check=True).stdout


COMPRESSORS = {
    "gzip": lambda d: gzip.compress(d, 9),
    "xz": lambda d: lzma.compress(d, format=lzma.FORMAT_XZ, check=lzma.CHECK_CRC32,
                                  filters=[{"id": lzma.FILTER_ARM}, {"id": lzma.FILTER_LZMA2}]),
    "lzma": lambda d: lzma.compress(d, format=lzma.FORMAT_ALONE),
    "lz4": lz4_legacy,
    "lzo": lzop,
}


@pytest.mark.parametrize("fmt", sorted(COMPRESSORS))
def test_zimage_payloads(fmt):
    target = parse_target(zimage(COMPRESSORS[fmt](kernel_blob())), "zImage")
    assert target.format == "zimage"
    assert [r.name for r in target.regions] == ["zImage", "kernel"]
    assert target.regions[1].data == kernel_blob()
    assert fmt in target.notes[0]
    sites = scan_target(target)
    got = {(s.region, s.address, s.isa, s.kind, s.name) for s in sites}
    assert ("kernel", 0x1004, "a32", "xen", "console_io") in got
    assert ("zImage", 0x34, "a32", "smccc", "smccc_0x0") in got


def test_lzo_payload_without_python_lzo_says_so(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "lzo", None)
    fake = b"\x89LZO\x00\r\n\x1a\n" + b"\0" * 64
    with pytest.raises(ImageError, match="LZO.*python-lzo"):
        parse_target(zimage(fake), "zImage")


def test_uncompressed_zimage_is_scanned_whole():
    blob = kernel_blob()
    # a zImage that is the program itself (like xenhvc's guests): no payload found
    head = bytearray(b"\0" * 0x30)
    img = bytearray(bytes(head) + blob)
    struct.pack_into("<III", img, 0x24, 0x016F2818, 0, len(img))
    target = parse_target(bytes(img), "zImage")
    assert [r.name for r in target.regions] == ["zImage"]
    (site,) = [s for s in scan_target(target) if s.kind == "xen"]
    assert site.address == 0x30 + 0x1004 and site.name == "console_io"


def test_gzip_image(tmp_path):
    hvc = aarch64.ARCH.hvc[0].encode
    img = bytearray(64) + (0xD2800250).to_bytes(4, "little") + hvc(0xEA1) + (0xD65F03C0).to_bytes(4, "little")
    struct.pack_into("<I", img, 0x38, 0x644D5241)
    (tmp_path / "Image").write_bytes(bytes(img))
    (tmp_path / "Image.gz").write_bytes(gzip.compress(bytes(img)))
    plain, gz = scan_file(tmp_path / "Image"), scan_file(tmp_path / "Image.gz")
    assert plain.target.format == "arm64-image" and gz.target.format == "gzip arm64-image"
    for r in (plain, gz):
        (s,) = r.sites
        assert (s.address, s.isa, s.number, s.name) == (0x44, "a64", 18, "console_io")
