"""The identity of the Xen build being modelled: Debian 12's ``xen-hypervisor-4.17-arm64``
(4.17.7+13-g2445b30a44-0+deb12u1), the hypervisor the oracle boots. The strings are what that
build answers to XENVER_* (read back from it by guests/probe)."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Host:
    """The machine the oracle's Xen runs on: QEMU ``virt`` with one Cortex-A57 (GICv3,
    ``virtualization=on``), ``-m 1024`` (RAM at 0x40000000-0x7fffffff), dom0_mem=128M. These are
    what Xen 4.17.7 reports about that machine (read back from it by guests/conformance/
    t13_physinfo.c); they are not properties of Xen."""

    #: XEN_SYSCTL_physinfo: one CPU, one thread, one core, one (non-NUMA) node
    nr_cpus: int = 1
    threads_per_core: int = 1
    cores_per_socket: int = 1
    nr_nodes: int = 1
    max_node_id: int = 0  # MAX_NUMNODES - 1 without CONFIG_NUMA
    #: the generic timer's 62.5 MHz (cpu_khz = timer rate / 1000)
    cpu_khz: int = 62500
    #: total_pages: all of the 1 GiB of RAM
    total_pages: int = 0x40000
    #: get_upper_mfn_bound(): the last RAM page, 0x7ffff000
    max_mfn: int = 0x7FFFF
    #: XEN_SYSCTL_PHYSCAP_vpmu: the A57's PMU is usable (vpmu_is_available)
    vpmu: bool = True
    #: p2m_ipa_bits (getdomaininfo gpaddr_bits): 44, from the A57's ID_AA64MMFR0_EL1.PARange
    ipa_bits: int = 44
    #: the MFN of dom0's shared_info page (on Arm getdomaininfo's shared_info_frame is that MFN):
    #: 0x7ffdd on the oracle booting an arm64 Image; with a zImage Xen allocates it just past the
    #: boot module (0x49010 for the a32 conformance image), so it depends on the image's size too
    dom0_shared_info_mfn: int = 0x7FFDD


ORACLE_HOST = Host()


@dataclass(frozen=True)
class XenBuild:
    major: int = 4
    minor: int = 17
    extraversion: str = ".7"
    compiler: str = "aarch64-linux-gnu-gcc (Debian 12.2.0-14+deb12u1) 12.2.0"
    compile_by: str = "pkg-xen-devel"
    compile_domain: str = "lists.alioth.debian.org"
    compile_date: str = "Wed Nov  4 16:52:28 UTC 2026"
    changeset: str = ""
    build_id: bytes = bytes.fromhex("7a23ea1ef3374f2c4453d67a7962e1d695e9f270")
    #: arch_get_xen_caps on arm64 with AArch32 EL1 support (Cortex-A57): a host property
    capabilities: str = "xen-3.0-aarch64 xen-3.0-armv7l "
    #: HYPERVISOR_VIRT_START on arm64 4.17 (xen/arch/arm/include/asm/config.h)
    virt_start: int = 0x200000
    #: ``!NDEBUG``: poison clobbered registers, allow CONSOLEIO_write to everyone, debug traps
    debug: bool = False
    #: Xen's own command line as the oracle boots it
    commandline: str = "dom0_mem=128M console=dtuart loglvl=all guest_loglvl=all dom0_max_vcpus=1"
    #: the machine it runs on
    host: Host = field(default=ORACLE_HOST)

    @property
    def version(self) -> int:
        return (self.major << 16) | self.minor


DEBIAN_4_17 = XenBuild()
