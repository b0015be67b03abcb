"""do_xen_version: every sub-op, privileged and not, with the answers Debian's 4.17.7 build gives
(see guests/probe/probe-a64.transcript.txt for the same calls against real Xen)."""
import struct

import pytest

from xenhvc.abi.errno import Errno
from xenhvc.abi.hypercalls import Hypercall
from xenhvc.abi.version import XenVer

XV = Hypercall.xen_version


def cstr(raw: bytes) -> str:
    return raw.split(b"\0", 1)[0].decode()


def test_version(dom0):
    assert dom0.call(XV, XenVer.XENVER_version, 0) == 0x40011


@pytest.mark.parametrize("cmd,size,text", [
    (XenVer.XENVER_extraversion, 16, ".7"),
    (XenVer.XENVER_capabilities, 1024, "xen-3.0-aarch64 xen-3.0-armv7l "),
    (XenVer.XENVER_changeset, 64, ""),
    (XenVer.XENVER_commandline, 1024, "dom0_mem=128M console=dtuart loglvl=all guest_loglvl=all dom0_max_vcpus=1"),
])
def test_string_subops_write_the_whole_buffer(dom0, cmd, size, text):
    dom0.put(dom0.buf, b"\xa5" * 2048)
    assert dom0.call(XV, cmd, dom0.buf) == 0
    out = dom0.get(dom0.buf, 2048)
    assert cstr(out) == text
    assert out[size:] == b"\xa5" * (2048 - size)  # exactly sizeof(buffer) written
    assert out[len(text):size] == bytes(size - len(text))


def test_compile_info(dom0):
    assert dom0.call(XV, XenVer.XENVER_compile_info, dom0.buf) == 0
    raw = dom0.get(dom0.buf, 144)
    fields = [cstr(raw[o:o + n]) for o, n in ((0, 64), (64, 16), (80, 32), (112, 32))]
    assert fields == ["aarch64-linux-gnu-gcc (Debian 12.2.0-14+deb12u1) 12.2.0", "pkg-xen-devel",
                      "lists.alioth.debian.org", "Wed Nov  4 16:52:28 UTC 2026"]


def test_platform_parameters(dom0):
    assert dom0.call(XV, XenVer.XENVER_platform_parameters, dom0.buf) == 0
    assert dom0.get(dom0.buf, 8) == (0x200000).to_bytes(8, "little")


def test_features_dom0_and_domu(dom0, domu):
    for model, submap in ((dom0, 0x26805), (domu, 0x16005)):
        model.put(model.buf, struct.pack("<II", 0, 0xFFFFFFFF))
        assert model.call(XV, XenVer.XENVER_get_features, model.buf) == 0
        assert struct.unpack("<II", model.get(model.buf, 8)) == (0, submap)


def test_features_bad_index(dom0):
    dom0.put(dom0.buf, struct.pack("<II", 1, 0))
    assert dom0.call(XV, XenVer.XENVER_get_features, dom0.buf) == -Errno.EINVAL


def test_pagesize(dom0):
    assert dom0.call(XV, XenVer.XENVER_pagesize, 0) == 4096
    assert dom0.call(XV, XenVer.XENVER_pagesize, dom0.buf) == -Errno.EINVAL


def test_guest_handle(dom0, domu):
    assert dom0.call(XV, XenVer.XENVER_guest_handle, dom0.buf) == 0
    assert dom0.get(dom0.buf, 16) == bytes(16)
    assert domu.call(XV, XenVer.XENVER_guest_handle, domu.buf) == 0
    assert domu.get(domu.buf, 16) == bytes(16)  # dom0less domains get no handle either (seen on the oracle)


def test_build_id(dom0):
    assert dom0.call(XV, XenVer.XENVER_build_id, 0) == 20
    dom0.put(dom0.buf, struct.pack("<I", 1016))
    assert dom0.call(XV, XenVer.XENVER_build_id, dom0.buf) == 20
    assert dom0.get(dom0.buf, 24) == struct.pack("<I", 1016) + bytes.fromhex("7a23ea1ef3374f2c4453d67a7962e1d695e9f270")
    dom0.put(dom0.buf, struct.pack("<I", 4))
    assert dom0.call(XV, XenVer.XENVER_build_id, dom0.buf) == -Errno.ENOBUFS
    dom0.put(dom0.buf, struct.pack("<I", 0))
    assert dom0.call(XV, XenVer.XENVER_build_id, dom0.buf) == -Errno.EINVAL


def test_unprivileged_denials(domu):
    assert domu.call(XV, XenVer.XENVER_build_id, 0) == -Errno.EPERM
    domu.put(domu.buf, b"\xa5" * 32)
    assert domu.call(XV, XenVer.XENVER_commandline, domu.buf) == 0
    assert domu.get(domu.buf, 10) == b"<denied>\0\xa5"  # only strlen + 1 bytes
    assert domu.call(XV, XenVer.XENVER_extraversion, domu.buf) == 0  # XSM_HOOK: allowed
    assert cstr(domu.get(domu.buf, 16)) == ".7"


@pytest.mark.parametrize("cmd", [11, 12, 0x7FFFFFFF, -1])
def test_unknown_subops(dom0, cmd):
    assert dom0.call(XV, cmd & 0xFFFFFFFF, dom0.buf) == -Errno.ENOSYS


@pytest.mark.parametrize("cmd", [1, 2, 3, 4, 5, 6, 8, 9, 10])
@pytest.mark.parametrize("ptr", [0, 1, 0xFFFFFFFF0000])
def test_bad_pointers_fault(dom0, cmd, ptr):
    expected = -Errno.EFAULT
    if cmd == XenVer.XENVER_build_id and ptr == 0:
        expected = 20  # NULL asks for the size
    assert dom0.call(XV, cmd, ptr) == expected


def test_cmd_is_an_int(dom0):
    """The upper 32 bits of x0 are ignored (int cmd)."""
    assert dom0.call(XV, 0xFFFFFFFF_00000000 | XenVer.XENVER_version, 0) == 0x40011
