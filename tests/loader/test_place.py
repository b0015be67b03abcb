"""Placement as Xen 4.17's domain builder does it; the expected addresses are what real Xen
logged for the example guests ("Loading zImage ... to", "Loading d0 DTB to")."""
import pytest

from xenhvc import ImageError, parse_image
from xenhvc.loader.place import GUEST_RAM0_BASE, MemoryBank, default_ram_base, place_domain

from tests.conftest import EXAMPLES

MB = 1 << 20
DOM0 = MemoryBank(0x70000000, 128 * MB)


def test_arm64_image_at_bank_start_dtb_near_top():
    layout = place_domain(parse_image((EXAMPLES / "hello-a64.Image").read_bytes()), DOM0, 0x1C0F)
    assert (layout.entry, layout.dtb_addr) == (0x70000000, 0x77E00000)


def test_zimage_high_dtb_below():
    layout = place_domain(parse_image((EXAMPLES / "hello-a32.zImage").read_bytes()), DOM0, 0x1BCD)
    assert (layout.entry, layout.dtb_addr) == (0x77E00000, 0x77C00000)


def test_text_offset_honoured():
    from tests.loader.test_image import arm64_image

    layout = place_domain(parse_image(arm64_image(text_offset=0x80000)), DOM0, 0x1000)
    assert layout.entry == 0x70080000


def test_image_larger_than_ram():
    from tests.loader.test_image import arm64_image

    big = parse_image(arm64_image(b"\0" * (8 * MB)))
    with pytest.raises(ImageError, match="memory"):
        place_domain(big, MemoryBank(0x40000000, 8 * MB), 0x1000)


def test_default_banks():
    assert default_ram_base(128 * MB, privileged=True) == 0x70000000
    assert default_ram_base(1024 * MB, privileged=True) == GUEST_RAM0_BASE
    assert default_ram_base(128 * MB, privileged=False) == GUEST_RAM0_BASE
