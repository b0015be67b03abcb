"""The toolstack side: Linux's privcmd interface and libxencall-style calls on top of it.

    from xenhvc.toolstack import Privcmd
    with Privcmd.emulated("a32") as xc:            # or Privcmd.open() on a real Xen dom0
        xc.xencall2(17, 0, 0)                      # xen_version(XENVER_version, NULL) = 0x40011
        with xc.bounce(b"hi\\n") as buf:
            xc.xencall3(18, 0, 3, buf.addr)        # console_io(CONSOLEIO_write, 3, buf)
"""
from .privcmd import (IOCTL_PRIVCMD_HYPERCALL, Privcmd, _IOC, privcmd_hypercall, xencall0, xencall1, xencall2,
                      xencall3, xencall4, xencall5)

__all__ = ["Privcmd", "privcmd_hypercall", "IOCTL_PRIVCMD_HYPERCALL", "_IOC", "xencall0", "xencall1", "xencall2",
           "xencall3", "xencall4", "xencall5"]
