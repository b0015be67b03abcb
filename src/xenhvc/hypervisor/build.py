"""The identity of the Xen build being modelled: Debian 12's ``xen-hypervisor-4.17-arm64``
(4.17.7+13-g2445b30a44-0+deb12u1), the hypervisor the oracle boots. The strings are what that
build answers to XENVER_* (read back from it by guests/probe)."""
from __future__ import annotations

from dataclasses import dataclass


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

    @property
    def version(self) -> int:
        return (self.major << 16) | self.minor


DEBIAN_4_17 = XenBuild()
