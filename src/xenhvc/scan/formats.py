"""Turn a file into code regions to scan: ELF (sections, symbols, mapping symbols), arm64 ``Image``
(plain or gzip), Arm ``zImage`` (its decompressor and its compressed payload: gzip, xz, lzma, lzo,
lz4 as Linux's arch/arm/boot/compressed uses them) and plain binaries (``--isa``, ``--base``)."""
from __future__ import annotations

import io
import lzma
import re
import struct
import zlib
from pathlib import Path

from ..errors import ImageError, UsageError
from ..loader.image import PAYLOAD_MAGICS
from .model import Function, Region, Target

GZIP_MAGIC = b"\x1f\x8b"
ELF_MAGIC = b"\x7fELF"
ARM64_MAGIC = 0x644D5241  # "ARM\x64" at 0x38
ZIMAGE_MAGIC = 0x016F2818  # at 0x24
MAX_OUT = 1 << 30
#: the ISAs ``--isa`` accepts; "aarch32" scans A32 and T32 and tells them apart
ISA_CHOICES = ("a64", "a32", "t32", "aarch32")


def load_target(path: str | Path, isa: str | None = None, base: int | None = None) -> Target:
    try:
        data = Path(path).read_bytes()
    except OSError as e:
        raise ImageError(f"cannot read {path}: {e.strerror}") from None
    return parse_target(data, str(path), isa, base)


def _isas(isa: str | None, default: tuple[str, ...]) -> tuple[str, ...]:
    if isa is None:
        return default
    if isa == "aarch32":
        return ("a32", "t32")
    return (isa,)


def parse_target(data: bytes, name: str, isa: str | None = None, base: int | None = None) -> Target:
    notes: list[str] = []
    fmt_prefix = ""
    if data[:2] == GZIP_MAGIC:
        data = _gunzip(data, name)
        fmt_prefix = "gzip "
        notes.append(f"gzip-compressed: {len(data)} bytes after decompression")
    if data[:4] == ELF_MAGIC:
        return _elf_target(data, name, isa, notes)
    if len(data) >= 64 and struct.unpack_from("<I", data, 0x38)[0] == ARM64_MAGIC:
        region = Region("Image", base or 0, data, _isas(isa, ("a64",)))
        return Target(name, fmt_prefix + "arm64-image", [region], notes)
    if len(data) >= 0x30 and struct.unpack_from("<I", data, 0x24)[0] == ZIMAGE_MAGIC:
        return _zimage_target(data, name, isa, base or 0, notes)
    if isa is None:
        raise UsageError(f"{name}: not an ELF file, arm64 Image or Arm zImage: give --isa "
                         f"({'|'.join(ISA_CHOICES)}) and --base to scan it as a plain binary")
    return Target(name, fmt_prefix + "raw", [Region("raw", base or 0, data, _isas(isa, ()))], notes)


def _gunzip(data: bytes, name: str) -> bytes:
    d = zlib.decompressobj(wbits=31)
    try:
        out = d.decompress(data, MAX_OUT)
    except zlib.error as e:
        raise ImageError(f"{name}: corrupt gzip stream: {e}") from None
    return out


# ---- ELF -------------------------------------------------------------------------------------

_MAPPING = {"$x": "a64", "$a": "a32", "$t": "t32", "$d": "data"}


def _elf_target(data: bytes, name: str, isa: str | None, notes: list[str]) -> Target:
    from elftools.common.exceptions import ELFError
    from elftools.elf.elffile import ELFFile
    from elftools.elf.sections import SymbolTableSection

    try:
        elf = ELFFile(io.BytesIO(data))
        machine = elf["e_machine"]
        if machine == "EM_AARCH64":
            default = ("a64",)
        elif machine == "EM_ARM":
            default = ("a32", "t32")
        else:
            raise ImageError(f"{name}: ELF for {machine} is not Arm code")
        if not elf.little_endian:
            raise ImageError(f"{name}: big-endian ELF is not supported")
        sections = [(i, s) for i, s in enumerate(elf.iter_sections())
                    if s["sh_type"] == "SHT_PROGBITS" and s["sh_flags"] & 0x4 and s["sh_size"]]
        by_index: dict[int, Region] = {}
        relocatable = elf["e_type"] == "ET_REL"
        for i, s in sections:
            by_index[i] = Region(s.name, s["sh_addr"], s.data(), _isas(isa, default))
        maps: dict[int, list[tuple[int, str]]] = {i: [] for i in by_index}
        symtabs = [s for s in elf.iter_sections() if isinstance(s, SymbolTableSection)]
        labels: dict[int, set[int]] = {i: set() for i in by_index}
        symtabs.sort(key=lambda t: t.name != ".symtab")  # the full table, not .dynsym
        for tab in symtabs[:1]:
            for sym in tab.iter_symbols():
                shndx = sym["st_shndx"]
                if not isinstance(shndx, int) or shndx not in by_index:
                    continue
                value, sname, stype = sym["st_value"], sym.name, sym["st_info"]["type"]
                region = by_index[shndx]
                if relocatable:
                    value += region.base
                tag = sname.split(".", 1)[0]
                if tag in _MAPPING:
                    maps[shndx].append((value, _MAPPING[tag]))
                    continue
                if stype in ("STT_SECTION", "STT_FILE") or not sname:
                    continue
                fisa = None
                if machine == "EM_ARM" and stype == "STT_FUNC":
                    fisa = "t32" if value & 1 else "a32"
                    value &= ~1
                elif machine == "EM_AARCH64" and stype == "STT_FUNC":
                    fisa = "a64"
                labels[shndx].add(value)
                if stype == "STT_FUNC" or stype == "STT_NOTYPE":
                    region.functions.append(Function(value, value + sym["st_size"], sname, fisa))
    except ELFError as e:
        raise ImageError(f"{name}: corrupt ELF: {e}") from None
    except (ValueError, struct.error) as e:
        raise ImageError(f"{name}: corrupt ELF: {e}") from None
    regions = []
    for i, region in by_index.items():
        if maps[i]:
            region.isa_map = sorted(set(maps[i]))
        elif machine == "EM_AARCH64":
            region.isa_map = None
        region.functions.sort(key=lambda f: (f.start, -(f.end - f.start)))
        # one entry per address: prefer a sized FUNC symbol over a bare label
        dedup: dict[int, Function] = {}
        for f in region.functions:
            if f.start not in dedup or (dedup[f.start].end == dedup[f.start].start and f.end > f.start):
                dedup[f.start] = f
        region.functions = sorted(dedup.values(), key=lambda f: f.start)
        region.labels = frozenset(labels[i])
        regions.append(region)
    if not regions:
        notes.append("no executable sections")
    return Target(name, f"elf{elf.elfclass}", regions, notes)


# ---- zImage ----------------------------------------------------------------------------------

#: (name, magic) of the payload formats arch/arm/boot/compressed can carry


class PayloadUnsupported(ImageError):
    pass


def _zimage_target(data: bytes, name: str, isa: str | None, base: int, notes: list[str]) -> Target:
    start, end = struct.unpack_from("<II", data, 0x28)
    length = (end - start) & 0xFFFFFFFF
    if 0 < length <= len(data):
        data = data[:length]
    isas = _isas(isa, ("a32", "t32"))
    regions = [Region("zImage", base, data, isas)]
    payload = find_payload(data, name)
    if payload is not None:
        fmt, offset, body = payload
        notes.append(f"compressed kernel: {fmt} at zImage+{offset:#x}, {len(body)} bytes decompressed "
                     "(payload addresses are offsets from the start of the decompressed kernel)")
        # the decompressor is what precedes the payload; scanning the compressed bytes finds noise
        regions = [Region("zImage", base, data[:offset], isas), Region("kernel", 0, body, isas)]
    return Target(name, "zimage", regions, notes)


def find_payload(data: bytes, name: str = "zImage") -> tuple[str, int, bytes] | None:
    """The largest stream that decompresses: ``(format, offset in data, decompressed bytes)``."""
    best: tuple[str, int, bytes] | None = None
    unsupported: list[str] = []
    for fmt, magic in PAYLOAD_MAGICS:
        for m in re.finditer(re.escape(magic), data):
            try:
                out = _DECOMPRESS[fmt](data, m.start())
            except PayloadUnsupported as e:
                unsupported.append(str(e))
                continue
            except Exception:  # not a stream after all (a magic number in the decompressor's code)
                continue
            if out and len(out) >= 4096 and (best is None or len(out) > len(best[2])):
                best = (fmt, m.start(), out)
    if best is None and unsupported:
        raise ImageError(f"{name}: {unsupported[0]}")
    return best


def _gzip_at(data: bytes, off: int) -> bytes:
    return zlib.decompressobj(wbits=31).decompress(data[off:], MAX_OUT)


def _xz_at(data: bytes, off: int) -> bytes:
    # Linux's xzkern adds the ARM BCJ filter; the .xz container says so and lzma applies it
    return lzma.LZMADecompressor(lzma.FORMAT_XZ).decompress(data[off:], MAX_OUT)


def _lzma_at(data: bytes, off: int) -> bytes:
    # `lzma -9` writes the .lzma "alone" header: props 0x5d, dictionary size, 64-bit size (-1: unknown)
    (dict_size,) = struct.unpack_from("<I", data, off + 1)
    if dict_size & (dict_size - 1) or not (1 << 12) <= dict_size <= (1 << 30):
        raise ValueError("not an lzma header")
    return lzma.LZMADecompressor(lzma.FORMAT_ALONE).decompress(data[off:], MAX_OUT)


def _lz4_at(data: bytes, off: int) -> bytes:
    """The lz4 legacy format (`lz4 -l`, what Linux uses): magic, then blocks of (u32 compressed size,
    data), each decompressing to at most 8 MiB; the stream ends at a new magic or at the 4-byte size
    trailer the kernel build appends."""
    try:
        import lz4.block
    except ImportError:
        raise PayloadUnsupported("the kernel payload is lz4-compressed: install the `lz4` Python package "
                                 "(pip install 'xenhvc[compress]')") from None
    pos, out = off + 4, bytearray()
    while pos + 4 <= len(data):
        (size,) = struct.unpack_from("<I", data, pos)
        if size == 0x184C2102 or size > len(data) - pos - 4 or size == 0:
            break
        try:
            out += lz4.block.decompress(data[pos + 4:pos + 4 + size], uncompressed_size=8 << 20)
        except Exception:
            if out:
                break
            raise
        pos += 4 + size
    return bytes(out)


def _lzo_at(data: bytes, off: int) -> bytes:
    """The lzop container (`lzop -9`): header, then blocks of (u32 BE uncompressed size, u32 BE
    compressed size, checksums, data) until a zero size."""
    try:
        import lzo  # python-lzo
    except ImportError:
        raise PayloadUnsupported("the kernel payload is LZO-compressed: install the `python-lzo` package "
                                 "(it builds against liblzo2-dev) to scan it") from None
    pos = off + 9
    version, _lib, _need = struct.unpack_from(">HHH", data, pos)
    pos += 6
    if version >= 0x0940:
        pos += 1  # method
        pos += 1  # level
    else:
        pos += 1
    (flags,) = struct.unpack_from(">I", data, pos)
    pos += 4
    if flags & 0x800:  # F_H_FILTER
        pos += 4
    pos += 4 + 4  # mode, mtime low
    if version >= 0x0940:
        pos += 4  # mtime high
    name_len = data[pos]
    pos += 1 + name_len + 4  # name, header checksum
    if flags & 0x40:  # F_H_EXTRA_FIELD
        (extra,) = struct.unpack_from(">I", data, pos)
        pos += 4 + extra + 4
    out = bytearray()
    while True:
        (usize,) = struct.unpack_from(">I", data, pos)
        pos += 4
        if usize == 0:
            break
        (csize,) = struct.unpack_from(">I", data, pos)
        pos += 4
        pos += 4 * (bool(flags & 0x1) + bool(flags & 0x100))  # uncompressed-data checksums
        if csize < usize:
            pos += 4 * (bool(flags & 0x2) + bool(flags & 0x200))  # compressed-data checksums
            out += lzo.decompress(data[pos:pos + csize], False, usize)
        else:
            out += data[pos:pos + csize]
        pos += csize
    return bytes(out)


_DECOMPRESS = {"gzip": _gzip_at, "xz": _xz_at, "lzma": _lzma_at, "lz4": _lz4_at, "lzo": _lzo_at}
