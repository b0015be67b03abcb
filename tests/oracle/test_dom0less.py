"""The dom0less device tree, edited with the fdt library (no QEMU needed)."""
import fdt

from xenhvc.oracle.dom0less import dom0less_dtb


def _base() -> bytes:
    tree = fdt.FDT()
    tree.root.append(fdt.PropWords("#address-cells", 2))
    chosen = fdt.Node("chosen")
    chosen.append(fdt.PropStrings("stdout-path", "/pl011@9000000"))
    tree.root.append(chosen)
    return tree.to_dtb(version=17)


def test_domain_node_as_in_the_recipe():
    tree = fdt.parse_dtb(dom0less_dtb(_base(), 0x90, "console=hvc0"))
    chosen = tree.get_node("/chosen")
    assert chosen.get_property("#address-cells").value == 1
    assert chosen.get_property("#size-cells").value == 1
    assert chosen.get_property("xen,xen-bootargs").value == \
        "console=dtuart dtuart=/pl011@9000000 loglvl=all guest_loglvl=all"
    assert chosen.get_property("stdout-path").value == "/pl011@9000000"
    dom = tree.get_node("/chosen/domU1")
    assert [p.name for p in dom.props] == ["compatible", "#address-cells", "#size-cells", "memory", "cpus", "vpl011"]
    assert list(dom.get_property("memory").data) == [0, 0x20000]
    mod = tree.get_node("/chosen/domU1/module@4a000000")
    assert list(mod.get_property("compatible").data) == ["multiboot,kernel", "multiboot,module"]
    assert list(mod.get_property("reg").data) == [0x4A000000, 0x90]
    assert mod.get_property("bootargs").value == "console=hvc0"


def _tokens(blob: bytes):
    """(token, name) pairs of the structure block: 1 BEGIN_NODE, 3 PROP, 2 END_NODE."""
    import struct

    off_struct, off_strings = struct.unpack_from(">II", blob, 8)
    pos, out = off_struct, []
    while True:
        (tok,) = struct.unpack_from(">I", blob, pos)
        pos += 4
        if tok == 1:
            end = blob.index(b"\0", pos)
            out.append((1, blob[pos:end].decode()))
            pos = (end + 4) & ~3
        elif tok == 3:
            length, nameoff = struct.unpack_from(">II", blob, pos)
            name = blob[off_strings + nameoff:blob.index(b"\0", off_strings + nameoff)].decode()
            out.append((3, name))
            pos = (pos + 8 + length + 3) & ~3
        elif tok == 2:
            out.append((2, ""))
        elif tok == 9:
            return out


def test_properties_precede_subnodes_in_the_blob():
    toks = _tokens(dom0less_dtb(_base(), 0x90, "x"))
    start = toks.index((1, "domU1"))
    sub = toks.index((1, "module@4a000000"))
    assert [name for tok, name in toks[start + 1:sub]] == \
        ["compatible", "#address-cells", "#size-cells", "memory", "cpus", "vpl011"]


def test_empty_bootargs_is_one_nul():
    tree = fdt.parse_dtb(dom0less_dtb(_base(), 0x90, ""))
    assert bytes(tree.get_node("/chosen/domU1/module@4a000000").get_property("bootargs").data) == b"\0"


def test_observer_dom0_module():
    tree = fdt.parse_dtb(dom0less_dtb(_base(), 0x90, "", dom0=(0x49000000, 0x1C0, "")))
    assert list(tree.get_node("/chosen/module@49000000").get_property("reg").data) == [0x49000000, 0x1C0]
