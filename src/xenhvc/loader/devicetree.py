"""The device tree a domain is handed, shaped like the ones real Xen 4.17 generates
(xen/arch/arm/domain_build.c; compare ../shared/reference/*.dts): memory, /chosen,
/hypervisor, /psci, cpus, the GICv3 and the generic timer."""
from __future__ import annotations

from dataclasses import dataclass

import fdt

from .place import MemoryBank

GIC_PHANDLE = 0x8002
GICD_BASE, GICD_SIZE = 0x08000000, 0x10000
GICR_BASE, GICR_SIZE = 0x080A0000, 0xF60000
#: a dom0less domU's GIC (GUEST_GICV3_GICD_BASE / GICR0_BASE) and its phandle (GUEST_PHANDLE_GIC)
DOMU_GICD_BASE, DOMU_GICR_BASE, DOMU_GICR_SIZE = 0x03001000, 0x03020000, 0x1000000
DOMU_GIC_PHANDLE = 0xFDE8
#: the vpl011 UART Xen gives a dom0less domU (GUEST_PL011_BASE, SPI 0)
DOMU_PL011 = (0x22000000, 0x1000)


def gic_frames(privileged: bool) -> tuple[int, int]:
    """Where the domain's (virtual) GIC distributor and redistributor are."""
    return (GICD_BASE, GICR_BASE) if privileged else (DOMU_GICD_BASE, DOMU_GICR_BASE)
#: grant-table region Xen advertises in /hypervisor reg[0] (dom0: a host hole; domU: GUEST_GNTTAB_BASE)
DOM0_GNTTAB = (0x40200000, 0x40000)
HOST_RAM = (0x40000000, 0x80000000)  # the oracle machine's RAM (-m 1024)
#: IRQ_TYPE_LEVEL_LOW | (cpu mask 0xf << 8), as Xen writes PPIs for one vCPU.
PPI_FLAGS = 0xF08
TIMER_PPIS = (13, 14, 11)  # secure-phys, phys, virt (GIC PPI numbers - 16)


@dataclass(frozen=True)
class DeviceTreeSpec:
    bank: MemoryBank
    bootargs: str
    privileged: bool
    cpu_compatible: str = "arm,cortex-a57"
    initrd: tuple[int, int] | None = None  # (start, end)
    #: the event-channel PPI as an index from 16 (dom0 got IRQ 16; toolstack domUs GUEST_EVTCHN_PPI 31)
    evtchn_ppi: int = 0
    #: dom0's /chosen rng-seed (32 bytes) and kaslr-seed (8 bytes): Xen copies the host's
    #: /chosen into dom0's, and QEMU's virt machine puts fresh ones there on every boot
    seeds: tuple[bytes, bytes] | None = None


def _cells(*values: int) -> list[int]:
    out: list[int] = []
    for v in values:
        out += [(v >> 32) & 0xFFFFFFFF, v & 0xFFFFFFFF]
    return out


def _node(name: str, *props: fdt.Property) -> fdt.Node:
    node = fdt.Node(name)
    for p in props:
        node.append(p)
    return node


def build_dtb(spec: DeviceTreeSpec) -> bytes:
    return _dom0_dtb(spec) if spec.privileged else _domu_dtb(spec)


def _psci() -> fdt.Node:
    return _node("psci", fdt.PropStrings("compatible", "arm,psci-1.0", "arm,psci-0.2", "arm,psci"),
                 fdt.PropStrings("method", "hvc"), fdt.PropWords("cpu_off", 1), fdt.PropWords("cpu_on", 2))


def _cpus(spec: DeviceTreeSpec) -> fdt.Node:
    cpus = _node("cpus", fdt.PropWords("#address-cells", 1), fdt.PropWords("#size-cells", 0))
    cpus.append(_node("cpu@0", fdt.PropStrings("compatible", spec.cpu_compatible),
                      fdt.PropStrings("device_type", "cpu"), fdt.PropWords("reg", 0),
                      fdt.PropStrings("enable-method", "psci")))
    return cpus


def _memory(spec: DeviceTreeSpec) -> fdt.Node:
    return _node(f"memory@{spec.bank.base:x}", fdt.PropStrings("device_type", "memory"),
                 fdt.PropWords("reg", *_cells(spec.bank.base, spec.bank.size)))


def _timer(phandle: int) -> fdt.Node:
    return _node("timer", fdt.PropStrings("compatible", "arm,armv8-timer"),
                 fdt.PropWords("interrupts", *(v for ppi in TIMER_PPIS for v in (1, ppi, PPI_FLAGS))),
                 fdt.PropWords("interrupt-parent", phandle))


def _domu_dtb(spec: DeviceTreeSpec) -> bytes:
    """The tree Xen 4.17 builds for a dom0less domU (prepare_dtb_domU; compare
    ../shared/reference/xen-4.17-dom0less-domU.dts): no /hypervisor node (only "enhanced" domUs
    get one), the guest GIC layout, and the vpl011 UART. The vpl011 itself is not emulated."""
    tree = fdt.FDT()
    root = tree.root
    root.append(fdt.PropWords("#address-cells", 2))
    root.append(fdt.PropWords("#size-cells", 2))
    initrd = spec.initrd or (0, 0)
    root.append(_node("chosen", fdt.PropBytes("bootargs", data=spec.bootargs.encode() + b"\0"),
                      fdt.PropWords("linux,initrd-start", *_cells(initrd[0])),
                      fdt.PropWords("linux,initrd-end", *_cells(initrd[1]))))
    root.append(_psci())
    root.append(_cpus(spec))
    root.append(_memory(spec))
    root.append(_node(
        f"interrupt-controller@{DOMU_GICD_BASE:x}",
        fdt.PropWords("#address-cells", 0), fdt.PropWords("#interrupt-cells", 3),
        fdt.Property("interrupt-controller"), fdt.PropStrings("compatible", "arm,gic-v3"),
        fdt.PropWords("reg", *_cells(DOMU_GICD_BASE, GICD_SIZE, DOMU_GICR_BASE, DOMU_GICR_SIZE)),
        fdt.PropWords("linux,phandle", DOMU_GIC_PHANDLE), fdt.PropWords("phandle", DOMU_GIC_PHANDLE)))
    root.append(_timer(DOMU_GIC_PHANDLE))
    root.append(_node(
        f"sbsa-uart@{DOMU_PL011[0]:x}", fdt.PropStrings("compatible", "arm,sbsa-uart"),
        fdt.PropWords("reg", *_cells(*DOMU_PL011)), fdt.PropWords("interrupts", 0, 0, 0xF04),
        fdt.PropWords("interrupt-parent", DOMU_GIC_PHANDLE), fdt.PropWords("current-speed", 115200)))
    return tree.to_dtb(version=17)


def _dom0_dtb(spec: DeviceTreeSpec) -> bytes:
    tree = fdt.FDT()
    root = tree.root
    for prop in (fdt.PropWords("interrupt-parent", GIC_PHANDLE), fdt.PropStrings("model", "linux,dummy-virt"),
                 fdt.PropWords("#size-cells", 2), fdt.PropWords("#address-cells", 2),
                 fdt.PropStrings("compatible", "linux,dummy-virt")):
        root.append(prop)

    # as raw bytes: an empty string is a valid property, which fdt.PropStrings refuses
    chosen = _node("chosen")
    if spec.seeds is not None:
        rng, kaslr = spec.seeds
        chosen.append(fdt.PropBytes("rng-seed", data=rng))
        chosen.append(fdt.PropBytes("kaslr-seed", data=kaslr))
    chosen.append(fdt.PropBytes("bootargs", data=spec.bootargs.encode() + b"\0"))
    if spec.initrd:
        chosen.append(fdt.PropWords("linux,initrd-start", *_cells(spec.initrd[0])))
        chosen.append(fdt.PropWords("linux,initrd-end", *_cells(spec.initrd[1])))
    root.append(chosen)

    gnttab = DOM0_GNTTAB
    regions = [gnttab] + [(lo, hi - lo) for lo, hi in ((gnttab[0] + 0x200000, spec.bank.base),
                                                       (spec.bank.end, HOST_RAM[1])) if hi > lo]
    root.append(_node(
        "hypervisor",
        fdt.PropStrings("compatible", "xen,xen-4.17", "xen,xen"),
        fdt.PropWords("reg", *_cells(*(v for r in regions for v in r))),
        fdt.PropWords("interrupts", 1, spec.evtchn_ppi, PPI_FLAGS),
        fdt.PropWords("interrupt-parent", GIC_PHANDLE),
    ))
    root.append(_psci())
    root.append(_cpus(spec))
    root.append(_memory(spec))
    root.append(_node(
        "interrupt-controller",
        fdt.PropWords("phandle", GIC_PHANDLE),
        fdt.PropWords("#address-cells", 2),
        fdt.PropWords("#size-cells", 2),
        fdt.PropWords("#interrupt-cells", 3),
        fdt.Property("interrupt-controller"),
        fdt.PropStrings("compatible", "arm,gic-v3"),
        fdt.PropWords("#redistributor-regions", 1),
        fdt.PropWords("reg", *_cells(GICD_BASE, GICD_SIZE, GICR_BASE, GICR_SIZE)),
    ))
    root.append(_timer(GIC_PHANDLE))
    return tree.to_dtb(version=17)
