"""Kernel image formats, probed in the order Xen 4.17's ``kernel_probe`` uses
(xen/arch/arm/kernel.c): gzip is decompressed first, then arm64 ``Image``, then Arm ``zImage``.
ELF (ELF32 ARM, ELF64 AArch64) is accepted too; real Xen 4.17 on Arm does not boot ELF kernels,
so such images cannot be compared with the oracle.
"""
from __future__ import annotations

import gzip
import io
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

from ..arch import Arch
from ..arch import aarch32, aarch64
from ..errors import ImageError

ZIMAGE64_HEADER_LEN = 64
ZIMAGE64_MAGIC_V0 = 0x14000008
ZIMAGE64_MAGIC_V1 = 0x644D5241  # "ARM\x64" at 0x38
ZIMAGE32_HEADER_LEN = 0x30
ZIMAGE32_MAGIC = 0x016F2818  # at 0x24; start at 0x28, end at 0x2c
GZIP_MAGIC = b"\x1f\x8b"
#: the compressed kernels a zImage may carry, by the magic that starts each stream
PAYLOAD_MAGICS = (
    ("gzip", b"\x1f\x8b\x08"),
    ("xz", b"\xfd7zXZ\x00"),
    ("lzma", b"\x5d\x00\x00"),
    ("lzo", b"\x89LZO\x00\r\n\x1a\n"),
    ("lz4", b"\x02\x21\x4c\x18"),
)


def zimage_code_end(data: bytes) -> int:
    """Where a zImage's own code (its decompressor) ends at the latest: the first magic of a
    compressed stream in it, or its end. LZMA's magic (three common bytes) is not looked for, as
    it turns up in code: an LZMA-compressed kernel's stream counts as code."""
    found = [i for fmt, magic in PAYLOAD_MAGICS if fmt != "lzma" for i in (data.find(magic),) if i >= 0]
    return min(found, default=len(data))
ELF_MAGIC = b"\x7fELF"
EM_ARM, EM_AARCH64 = 40, 183
PT_LOAD = 1
#: The largest decompressed kernel accepted (a guard against gzip bombs).
MAX_DECOMPRESSED = 1 << 30


@dataclass(frozen=True)
class Segment:
    """Bytes to place in guest memory. ``addr`` is absolute for ELF and relative to the load
    address for Image/zImage; ``memsz`` >= len(data) (the rest is zero)."""

    addr: int
    data: bytes
    memsz: int


@dataclass(frozen=True)
class KernelImage:
    format: str  # "arm64-image", "zimage", "elf64", "elf32"
    arch: Arch
    segments: tuple[Segment, ...]
    compressed: bool = False
    text_offset: int = 0  # arm64 Image
    zimage_start: int = 0  # zImage: 0 = position independent
    entry: int | None = None  # ELF: absolute entry point
    thumb: bool = False  # ELF32 with a Thumb entry point

    @property
    def position_independent(self) -> bool:
        return self.format in ("arm64-image", "zimage")

    @property
    def length(self) -> int:
        return sum(len(s.data) for s in self.segments) if self.position_independent else 0


def read_image(path: str | Path) -> KernelImage:
    try:
        data = Path(path).read_bytes()
    except OSError as e:
        raise ImageError(f"cannot read image {path}: {e.strerror}") from None
    return parse_image(data, name=str(path))


def parse_image(data: bytes, name: str = "image") -> KernelImage:
    compressed = False
    if data[:2] == GZIP_MAGIC:
        data = _gunzip(data, name)
        compressed = True
    if len(data) >= ZIMAGE64_HEADER_LEN:
        magic0, text_offset = struct.unpack_from("<I4xQ", data, 0)
        (magic1,) = struct.unpack_from("<I", data, 0x38)
        if magic0 == ZIMAGE64_MAGIC_V0 or magic1 == ZIMAGE64_MAGIC_V1:
            return KernelImage("arm64-image", aarch64.ARCH, (Segment(0, data, len(data)),),
                               compressed, text_offset=text_offset)
    if len(data) >= ZIMAGE32_HEADER_LEN:
        magic, start, end = struct.unpack_from("<III", data, 0x24)
        if magic == ZIMAGE32_MAGIC:
            length = (end - start) & 0xFFFFFFFF
            if length > len(data):
                raise ImageError(f"{name}: zImage header says {length} bytes but the file has {len(data)}")
            return KernelImage("zimage", aarch32.ARCH, (Segment(0, data[:length], length),),
                               compressed, zimage_start=start)
    if data[:4] == ELF_MAGIC:
        return _parse_elf(data, name, compressed)
    if len(data) < ZIMAGE32_HEADER_LEN:
        raise ImageError(f"{name}: truncated image ({len(data)} bytes): no kernel header fits")
    raise ImageError(f"{name}: not an arm64 Image, Arm zImage, ELF or gzip-compressed kernel (no known magic)")


def _gunzip(data: bytes, name: str) -> bytes:
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as f:
            out = f.read(MAX_DECOMPRESSED + 1)
    except (OSError, EOFError, zlib.error) as e:
        raise ImageError(f"{name}: corrupt gzip stream: {e}") from None
    if len(out) > MAX_DECOMPRESSED:
        raise ImageError(f"{name}: decompresses to more than {MAX_DECOMPRESSED >> 20} MiB")
    return out


def _parse_elf(data: bytes, name: str, compressed: bool) -> KernelImage:
    from elftools.common.exceptions import ELFError
    from elftools.construct.core import ConstructError
    from elftools.elf.elffile import ELFFile

    try:
        elf = ELFFile(io.BytesIO(data))
        machine = elf["e_machine"]
        if machine == "EM_AARCH64" and elf.elfclass == 64:
            arch = aarch64.ARCH
        elif machine == "EM_ARM" and elf.elfclass == 32:
            arch = aarch32.ARCH
        else:
            raise ImageError(f"{name}: ELF for {machine} ({elf.elfclass}-bit) is not an Arm guest")
        if not elf.little_endian:
            raise ImageError(f"{name}: big-endian ELF images are not supported")
        segments = []
        for seg in elf.iter_segments():
            if seg["p_type"] != "PT_LOAD" or seg["p_memsz"] == 0:
                continue
            body = seg.data()
            if len(body) != seg["p_filesz"]:
                raise ImageError(f"{name}: truncated ELF segment at {seg['p_paddr']:#x}")
            segments.append(Segment(seg["p_paddr"], body, seg["p_memsz"]))
        entry = elf["e_entry"]
    except ELFError as e:
        raise ImageError(f"{name}: corrupt ELF: {e}") from None
    except (ValueError, struct.error, ConstructError) as e:
        raise ImageError(f"{name}: corrupt ELF: {e}") from None
    if not segments:
        raise ImageError(f"{name}: ELF has no loadable segments")
    thumb = arch is aarch32.ARCH and bool(entry & 1)
    return KernelImage(f"elf{elf.elfclass}", arch, tuple(segments), compressed,
                       entry=entry & ~1 if thumb else entry, thumb=thumb)
