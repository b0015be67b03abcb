import struct

import pytest

from xenhvc.abi.errno import Errno
from xenhvc.abi.hypercalls import Hypercall
from xenhvc.abi.sched import SchedOp, Shutdown

SO = Hypercall.sched_op


def test_yield(dom0):
    assert dom0.call(SO, SchedOp.SCHEDOP_yield, 0) == 0


@pytest.mark.parametrize("reason", list(Shutdown) + [6, 0x1FF])
def test_shutdown_reasons(dom0, reason):
    dom0.put(dom0.buf, struct.pack("<I", reason))
    assert dom0.call(SO, SchedOp.SCHEDOP_shutdown, dom0.buf) == 0
    assert dom0.xen.domain.shutdown_reason == reason & 0xFF


def test_shutdown_bad_pointer(dom0):
    assert dom0.call(SO, SchedOp.SCHEDOP_shutdown, 1) == -Errno.EFAULT
    assert not dom0.xen.domain.is_shutting_down


def test_shutdown_code_latches(dom0):
    dom0.put(dom0.buf, struct.pack("<I", Shutdown.SHUTDOWN_crash))
    assert dom0.call(SO, SchedOp.SCHEDOP_shutdown_code, dom0.buf) == 0
    assert not dom0.xen.domain.is_shutting_down
    dom0.put(dom0.buf, struct.pack("<I", Shutdown.SHUTDOWN_reboot))
    dom0.call(SO, SchedOp.SCHEDOP_shutdown_code, dom0.buf)  # first code wins
    dom0.put(dom0.buf, struct.pack("<I", Shutdown.SHUTDOWN_poweroff))
    dom0.call(SO, SchedOp.SCHEDOP_shutdown, dom0.buf)
    assert dom0.xen.domain.shutdown_reason == Shutdown.SHUTDOWN_crash


def test_remote_shutdown(dom0, domu):
    dom0.put(dom0.buf, struct.pack("<HxxI", 5, 0))
    assert dom0.call(SO, SchedOp.SCHEDOP_remote_shutdown, dom0.buf) == -Errno.ESRCH
    dom0.put(dom0.buf, struct.pack("<HxxI", 0, Shutdown.SHUTDOWN_reboot))
    assert dom0.call(SO, SchedOp.SCHEDOP_remote_shutdown, dom0.buf) == 0
    assert dom0.xen.domain.shutdown_reason == Shutdown.SHUTDOWN_reboot
    domu.put(domu.buf, struct.pack("<HxxI", 1, 0))
    assert domu.call(SO, SchedOp.SCHEDOP_remote_shutdown, domu.buf) == -Errno.EPERM
    assert domu.call(SO, SchedOp.SCHEDOP_remote_shutdown, 1) == -Errno.EFAULT


def test_watchdog(dom0):
    put = lambda wid, t: dom0.put(dom0.buf, struct.pack("<II", wid, t))
    put(0, 100)
    assert dom0.call(SO, SchedOp.SCHEDOP_watchdog, dom0.buf) == 1
    assert dom0.call(SO, SchedOp.SCHEDOP_watchdog, dom0.buf) == 2
    assert dom0.call(SO, SchedOp.SCHEDOP_watchdog, dom0.buf) == -Errno.ENOSPC
    put(3, 0)
    assert dom0.call(SO, SchedOp.SCHEDOP_watchdog, dom0.buf) == -Errno.EINVAL
    put(2, 0)
    assert dom0.call(SO, SchedOp.SCHEDOP_watchdog, dom0.buf) == 0  # stopped
    assert dom0.call(SO, SchedOp.SCHEDOP_watchdog, dom0.buf) == -Errno.EINVAL  # not in use
    put(1, 50)
    assert dom0.call(SO, SchedOp.SCHEDOP_watchdog, dom0.buf) == 0
    assert not dom0.xen.domain.is_shutting_down


def test_watchdog_fires(dom0):
    dom0.put(dom0.buf, struct.pack("<II", 0, 0))
    assert dom0.call(SO, SchedOp.SCHEDOP_watchdog, dom0.buf) == 1
    assert dom0.xen.domain.shutdown_reason == Shutdown.SHUTDOWN_watchdog
    assert "Watchdog timer fired for domain 0" in dom0.log


def test_pin_override(dom0, domu):
    assert domu.call(SO, SchedOp.SCHEDOP_pin_override, domu.buf) == -Errno.EPERM
    for pcpu, rc in ((-1, -Errno.EINVAL), (128, -Errno.EINVAL), (1, -Errno.EINVAL), (0, 0), (0, -Errno.EBUSY),
                     (-1, 0), (-1, -Errno.EINVAL)):
        dom0.put(dom0.buf, struct.pack("<i", pcpu))
        assert dom0.call(SO, SchedOp.SCHEDOP_pin_override, dom0.buf) == rc, pcpu


def test_poll(dom0):
    dom0.put(dom0.buf, struct.pack("<QI4xQ", dom0.buf + 64, 200, 0))
    assert dom0.call(SO, SchedOp.SCHEDOP_poll, dom0.buf) == -Errno.EINVAL
    dom0.put(dom0.buf, struct.pack("<QI4xQ", 1, 1, 0))
    assert dom0.call(SO, SchedOp.SCHEDOP_poll, dom0.buf) == -Errno.EFAULT
    dom0.put(dom0.buf + 64, struct.pack("<I", 4096))
    dom0.put(dom0.buf, struct.pack("<QI4xQ", dom0.buf + 64, 1, 0))
    assert dom0.call(SO, SchedOp.SCHEDOP_poll, dom0.buf) == -Errno.EINVAL
    dom0.put(dom0.buf + 64, struct.pack("<I", 3))
    dom0.put(dom0.buf, struct.pack("<QI4xQ", dom0.buf + 64, 1, 10**9))
    assert dom0.call(SO, SchedOp.SCHEDOP_poll, dom0.buf) == 0
    assert not dom0.xen.domain.blocked  # a timeout wakes it
    dom0.put(dom0.buf, struct.pack("<QI4xQ", dom0.buf + 64, 1, 0))
    assert dom0.call(SO, SchedOp.SCHEDOP_poll, dom0.buf) == 0
    assert dom0.xen.domain.blocked  # nothing ever will


def test_block_unmasks_irqs(dom0):
    assert dom0.call(SO, SchedOp.SCHEDOP_block, 0) == 0
    assert dom0.vcpu.irqs_unmasked and dom0.xen.domain.blocked


def test_unknown(dom0):
    assert dom0.call(SO, 99, 0) == -Errno.ENOSYS
    assert dom0.call(SO, 8, 0) == -Errno.ENOSYS
