#!/usr/bin/env python3
"""Write a gzip-compressed initramfs (cpio "newc") holding a static busybox and an /init script.

    mkinitramfs.py --busybox BUSYBOX --init INIT -o OUT.cpio.gz

Needs no root and no cpio tool: the device nodes the kernel wants before /init runs
(/dev/console, /dev/null) are written as cpio entries. The archive is reproducible: every entry
has owner 0:0 and mtime 0, inode numbers count up from 1, and the gzip header carries no name
or time. /init installs busybox's applet links itself (busybox --install -s).
Used by guests/linux/build.sh.
"""
from __future__ import annotations

import argparse
import gzip
import stat
import sys
from pathlib import Path

DIRS = ["bin", "sbin", "usr", "usr/bin", "usr/sbin", "dev", "proc", "sys", "tmp", "root", "etc"]
CHAR_DEVICES = [("dev/console", 0o600, 5, 1), ("dev/null", 0o666, 1, 3)]
SYMLINKS = [("bin/sh", "busybox")]


class Newc:
    def __init__(self) -> None:
        self.out = bytearray()
        self.ino = 0

    def add(self, name: str, mode: int, data: bytes = b"", rdev: tuple[int, int] = (0, 0)) -> None:
        self.ino += 1
        nlink = 2 if stat.S_ISDIR(mode) else 1
        fields = [self.ino, mode, 0, 0, nlink, 0, len(data), 0, 0, rdev[0], rdev[1], len(name) + 1, 0]
        self.out += b"070701" + b"".join(b"%08X" % f for f in fields)
        self.out += name.encode() + b"\0"
        self._pad()
        self.out += data
        self._pad()

    def _pad(self) -> None:
        self.out += b"\0" * (-len(self.out) % 4)

    def finish(self) -> bytes:
        self.add("TRAILER!!!", 0)
        self.ino = 0
        self.out += b"\0" * (-len(self.out) % 512)
        return bytes(self.out)


def build(busybox: bytes, init: bytes) -> bytes:
    cpio = Newc()
    for d in DIRS:
        cpio.add(d, stat.S_IFDIR | 0o755)
    for name, perm, major, minor in CHAR_DEVICES:
        cpio.add(name, stat.S_IFCHR | perm, rdev=(major, minor))
    cpio.add("bin/busybox", stat.S_IFREG | 0o755, busybox)
    for name, target in SYMLINKS:
        cpio.add(name, stat.S_IFLNK | 0o777, target.encode())
    cpio.add("init", stat.S_IFREG | 0o755, init)
    return gzip.compress(cpio.finish(), compresslevel=9, mtime=0)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--busybox", required=True, type=Path, help="a static busybox binary for the guest")
    p.add_argument("--init", required=True, type=Path, help="the script to install as /init")
    p.add_argument("-o", "--output", required=True, type=Path)
    args = p.parse_args(argv)
    data = build(args.busybox.read_bytes(), args.init.read_bytes())
    tmp = args.output.with_name(args.output.name + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
