"""--initrd: the initramfs goes where Xen 4.17's place_modules puts it (right after the DTB's
2 MiB-rounded slot) and /chosen describes it with 64-bit linux,initrd-start/end, as Xen's
initrd_load fills them in."""
import fdt
import pytest

from xenhvc import ImageError, parse_image
from xenhvc.cli import main
from xenhvc.errors import UsageError
from xenhvc.loader.devicetree import DeviceTreeSpec, build_dtb
from xenhvc.loader.place import MemoryBank, place_domain
from xenhvc.testing import assemble_guest, run_guest

BANK = MemoryBank(0x70000000, 0x8000000)


def test_dom0_chosen_has_64_bit_initrd_cells():
    tree = fdt.parse_dtb(build_dtb(DeviceTreeSpec(BANK, "console=hvc0", True, initrd=(0x77E00000, 0x77E12345))))
    assert list(tree.get_property("linux,initrd-start", "chosen").data) == [0, 0x77E00000]
    assert list(tree.get_property("linux,initrd-end", "chosen").data) == [0, 0x77E12345]


def test_dom0_chosen_without_initrd_has_no_initrd_properties():
    tree = fdt.parse_dtb(build_dtb(DeviceTreeSpec(BANK, "console=hvc0", True)))
    assert not tree.exist_property("linux,initrd-start", "chosen")


def _printer(addr: int, length: int) -> bytes:
    return assemble_guest("a64", f"""
    mov     x0, #0              // CONSOLEIO_write
    mov     x1, #{length}
    ldr     x2, ={addr:#x}
    xen_hypercall __HYPERVISOR_console_io
    shutdown 0
    .ltorg
""")


def test_guest_reads_its_initrd_where_chosen_says():
    payload = b"070701 initramfs bytes\n"
    probe = parse_image(_printer(0, len(payload)))
    # the guest's size does not depend on the address it loads, so place it once to learn where
    expected = place_domain(probe, BANK, 4096, len(payload)).initrd_addr
    assert expected == 0x77E00000  # modules at the end of the 128 MiB bank: DTB slot, then initrd
    result = run_guest(_printer(expected, len(payload)), initrd=payload)
    assert result.initrd == (expected, expected + len(payload))
    assert result.dtb_addr == expected - (2 << 20)
    assert result.console == payload
    assert result.exit_code == 0


def test_large_initrd_moves_the_modules_down():
    payload = bytes(5 << 20)
    result = run_guest(_printer(0x70000000, 4), initrd=payload)
    start, end = result.initrd
    assert end - start == len(payload)
    # place_modules: modsize = 2 MiB (DTB) + 6 MiB (initrd, rounded) from the end of RAM
    assert result.dtb_addr == BANK.end - (8 << 20) and start == result.dtb_addr + (2 << 20)


def test_initrd_that_does_not_fit_is_a_bad_image():
    with pytest.raises(ImageError):
        run_guest(_printer(0x70000000, 4), initrd=bytes(127 << 20))


def test_unreadable_initrd_is_a_usage_error(tmp_path):
    with pytest.raises(UsageError):
        run_guest(_printer(0x70000000, 4), initrd=tmp_path / "missing")


def test_cli_initrd(tmp_path):
    import io
    initrd = tmp_path / "initrd.cpio"
    initrd.write_bytes(b"from the initrd\n")
    image = tmp_path / "guest.Image"
    image.write_bytes(_printer(0x77E00000, 16))
    out, err = io.BytesIO(), io.StringIO()
    rc = main(["run", str(image), "--initrd", str(initrd)], stdout=out, stderr=err, stdin=io.BytesIO())
    assert (rc, out.getvalue()) == (0, b"from the initrd\n"), err.getvalue()
