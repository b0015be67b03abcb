"""xen/include/public/sched.h."""
from enum import IntEnum


class SchedOp(IntEnum):
    SCHEDOP_yield = 0
    SCHEDOP_block = 1
    SCHEDOP_shutdown = 2
    SCHEDOP_poll = 3
    SCHEDOP_remote_shutdown = 4
    SCHEDOP_shutdown_code = 5
    SCHEDOP_watchdog = 6
    SCHEDOP_pin_override = 7


class Shutdown(IntEnum):
    SHUTDOWN_poweroff = 0
    SHUTDOWN_reboot = 1
    SHUTDOWN_suspend = 2
    SHUTDOWN_crash = 3
    SHUTDOWN_watchdog = 4
    SHUTDOWN_soft_reset = 5


SHUTDOWN_CODE_INVALID = 0xFFFFFFFF  # ~0u: struct domain's shutdown_code is an unsigned int
NR_DOMAIN_WATCHDOG_TIMERS = 2
SCHED_POLL_MAX_PORTS = 128
