"""The observer dom0 of a dom0less run. Xen 4.17 prints nothing when a domU shuts down (only the
hardware domain's shutdown is logged, by hwdom_shutdown() in xen/common/shutdown.c), and QEMU keeps
running. So the oracle boots this tiny arm64 Image as dom0 beside the domU: it polls
XEN_DOMCTL_getdomaininfo for domain 1 (yielding between polls) and, once XEN_DOMINF_shutdown is
set, shuts itself down with the domU's shutdown code (flags >> XEN_DOMINF_shutdownshift & 0xff).
Xen's "Hardware Dom0 ..." line then says, in Xen's words, how the domU stopped, and for poweroff
and reboot QEMU exits by itself.

The bytes below are SOURCE assembled by ``xenhvc.testing.assemble_guest("a64", SOURCE)`` (a test
checks they still agree), kept here so that running the oracle needs no cross binutils."""
from __future__ import annotations

WATCHED_DOMID = 1  # Xen 4.17's create_domUs() numbers dom0less domains from 1

SOURCE = """
    adr     x19, 8f                 // struct xen_domctl
1:  mov     w1, #5                  // XEN_DOMCTL_getdomaininfo
    str     w1, [x19]
    mov     w1, #0x15               // XEN_DOMCTL_INTERFACE_VERSION (4.17)
    str     w1, [x19, #4]
    ldr     w1, 9f
    str     x1, [x19, #8]           // domain, _pad[3]
    mov     x0, x19
    xen_hypercall __HYPERVISOR_domctl
    cbnz    x0, 2f
    ldrh    w3, [x19, #16]          // u.getdomaininfo.domain: the first domain >= the one asked for
    ldr     w1, 9f
    cmp     w3, w1
    b.ne    2f
    ldr     w2, [x19, #20]          // u.getdomaininfo.flags
    tbnz    w2, #2, 3f              // XEN_DOMINF_shutdown
2:  mov     x0, #0                  // SCHEDOP_yield
    mov     x1, #0
    xen_hypercall __HYPERVISOR_sched_op
    b       1b
3:  ubfx    w3, w2, #16, #8         // the domU's shutdown code
    adr     x1, 7f
    str     w3, [x1]
    mov     x0, #2                  // SCHEDOP_shutdown, with that reason
    xen_hypercall __HYPERVISOR_sched_op
    b       .
    .balign 8
7:  .word   0
9:  .word   1
8:  .skip   256
"""

_CODE = bytes.fromhex(
    "10000014000000000000000000000000c0010000000000000a0000000000000000000000000000000000000000000000"
    "000000000000000041524d640000000013040010a1008052610200b9a1028052610600b941030018610600f9e00313aa"
    "900480d222d401d4e00000b563224079610200187f00016b61000054621640b9c2001037000080d2010080d2b00380d2"
    "22d401d4ecffff17435c1053e1000010230000b9400080d2b00380d222d401d4000000141f2003d50000000001000000"
)
_SIZE = 448

OBSERVER_IMAGE = _CODE.ljust(_SIZE, b"\0")
