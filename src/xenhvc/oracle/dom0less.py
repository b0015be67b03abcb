"""The device tree for a dom0less boot (Xen's docs/misc/arm/device-tree/booting.txt): QEMU's own
tree (``-machine virt,...,dumpdtb=FILE``) with Xen's command line and one ``xen,domain`` node in
/chosen. Edited with the ``fdt`` library."""
from __future__ import annotations

import fdt

from .process import OracleError

KERNEL_ADDR = 0x4A000000  # where QEMU's generic loader puts the image
DOMU_MEMORY_KB = 0x20000  # 128 MiB
XEN_DOM0LESS_BOOTARGS = "console=dtuart dtuart=/pl011@9000000 loglvl=all guest_loglvl=all"


def dom0less_dtb(qemu_dtb: bytes, image_size: int, bootargs: str, *, name: str = "domU1",
                 xen_bootargs: str = XEN_DOM0LESS_BOOTARGS, kernel_addr: int = KERNEL_ADDR,
                 memory_kb: int = DOMU_MEMORY_KB, dom0: tuple[int, int, str] | None = None) -> bytes:
    """QEMU's tree plus, under /chosen::

        #address-cells = <1>; #size-cells = <1>;
        xen,xen-bootargs = "console=dtuart dtuart=/pl011@9000000 loglvl=all guest_loglvl=all";
        domU1 {
            compatible = "xen,domain"; #address-cells = <1>; #size-cells = <1>;
            memory = <0 0x20000>; cpus = <1>; vpl011;
            module@4a000000 { compatible = "multiboot,kernel", "multiboot,module";
                              reg = <0x4a000000 SIZE>; bootargs = "..."; };
        };

    (``fdt`` writes a node's properties before its subnodes, as Xen's parser needs.) ``dom0``
    = (address, size, bootargs) adds a dom0 kernel module directly under /chosen, as QEMU's
    guest-loader would (it does not touch a tree given with -dtb)."""
    try:
        tree = fdt.parse_dtb(qemu_dtb)
    except Exception as e:  # the fdt library raises bare Exceptions on bad input
        raise OracleError(f"cannot parse the device tree QEMU dumped: {e}") from None
    chosen = tree.get_node("/chosen", create=True)
    chosen.set_property("#address-cells", 1)
    chosen.set_property("#size-cells", 1)
    chosen.set_property("xen,xen-bootargs", xen_bootargs)
    if chosen.exist_subnode(name):
        chosen.remove_subnode(name)
    if dom0 is not None:
        chosen.append(_module(*dom0))
    domain = fdt.Node(name)
    domain.append(fdt.PropStrings("compatible", "xen,domain"))
    domain.append(fdt.PropWords("#address-cells", 1))
    domain.append(fdt.PropWords("#size-cells", 1))
    domain.append(fdt.PropWords("memory", 0, memory_kb))
    domain.append(fdt.PropWords("cpus", 1))
    domain.append(fdt.Property("vpl011"))
    domain.append(_module(kernel_addr, image_size, bootargs))
    chosen.append(domain)
    return tree.to_dtb(version=17)


def _module(addr: int, size: int, bootargs: str) -> fdt.Node:
    module = fdt.Node(f"module@{addr:x}")
    module.append(fdt.PropStrings("compatible", "multiboot,kernel", "multiboot,module"))
    module.append(fdt.PropWords("reg", addr, size))
    module.append(_string("bootargs", bootargs))
    return module


def _string(name: str, value: str) -> fdt.Property:
    """A string property; ``fdt`` refuses an empty string, which is one NUL byte in a DTB."""
    return fdt.PropStrings(name, value) if value else fdt.PropBytes(name, data=b"\0")
