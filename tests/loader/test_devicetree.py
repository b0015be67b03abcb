import fdt

from xenhvc.loader.devicetree import DeviceTreeSpec, build_dtb
from xenhvc.loader.place import MemoryBank


def raw(prop) -> bytes:
    """A property's bytes, however the parser typed it."""
    if isinstance(prop, fdt.PropStrings):
        return "".join(v + "\0" for v in prop.data).encode()
    if isinstance(prop, fdt.PropWords):
        return b"".join(w.to_bytes(4, "big") for w in prop.data)
    return bytes(prop.data)


def test_dom0_tree_has_what_xen_gives_dom0():
    tree = fdt.parse_dtb(build_dtb(DeviceTreeSpec(MemoryBank(0x70000000, 0x8000000), "console=hvc0 x", True)))
    hyp = tree.get_node("hypervisor")
    assert list(hyp.get_property("compatible").data) == ["xen,xen-4.17", "xen,xen"]
    # grant table region and extended regions, as in ../shared/reference/xen-4.17-dom0-on-qemu-virt.dts
    assert list(hyp.get_property("reg").data) == [0, 0x40200000, 0, 0x40000, 0, 0x40400000, 0, 0x2FC00000,
                                                  0, 0x78000000, 0, 0x8000000]
    assert list(hyp.get_property("interrupts").data) == [1, 0, 0xF08]
    assert raw(tree.get_property("bootargs", "chosen")) == b"console=hvc0 x\0"
    assert list(tree.get_property("reg", "memory@70000000").data) == [0, 0x70000000, 0, 0x8000000]
    psci = tree.get_node("psci")
    assert psci.get_property("method").value == "hvc"
    assert list(psci.get_property("compatible").data) == ["arm,psci-1.0", "arm,psci-0.2", "arm,psci"]
    assert tree.get_node("interrupt-controller").get_property("compatible").value == "arm,gic-v3"
    assert tree.get_node("timer").get_property("compatible").value == "arm,armv8-timer"


def test_domu_tree_is_xens_dom0less_tree():
    tree = fdt.parse_dtb(build_dtb(DeviceTreeSpec(MemoryBank(0x40000000, 0x8000000), "", False, evtchn_ppi=15)))
    assert not tree.exist_node("hypervisor")  # only "enhanced" dom0less domUs get one
    assert raw(tree.get_property("bootargs", "chosen")) == b"\0"
    assert list(tree.get_property("linux,initrd-start", "chosen").data) == [0, 0]
    gic = tree.get_node("interrupt-controller@3001000")
    assert list(gic.get_property("reg").data) == [0, 0x3001000, 0, 0x10000, 0, 0x3020000, 0, 0x1000000]
    assert tree.get_node("timer").get_property("interrupt-parent").value == 0xFDE8
    assert tree.exist_node("sbsa-uart@22000000")


def test_dom0_chosen_carries_the_seeds_qemu_gives_the_host():
    spec = DeviceTreeSpec(MemoryBank(0x70000000, 0x8000000), "console=hvc0", True, seeds=(b"r" * 32, b"k" * 8))
    chosen = fdt.parse_dtb(build_dtb(spec)).get_node("chosen")
    assert [p.name for p in chosen.props][:3] == ["rng-seed", "kaslr-seed", "bootargs"]  # the order Xen gives
    assert raw(chosen.get_property("rng-seed")) == b"r" * 32 and raw(chosen.get_property("kaslr-seed")) == b"k" * 8
