"""What a real-Xen run produced, and why it stopped: Xen's own words (xen/common/shutdown.c of
Xen 4.17.7, ``hwdom_shutdown``) mapped to xenhvc's exit codes."""
from __future__ import annotations

import re
from dataclasses import dataclass

from ..stop import ExitCode

# (pattern on a Xen log line without its "(XEN) " prefix, exit code), from hwdom_shutdown():
#   SHUTDOWN_poweroff   "Hardware Dom%u halted: halting machine\n"
#   SHUTDOWN_crash      "Hardware Dom%u crashed: " then maybe_reboot(): "rebooting machine in 5 seconds.\n"
#   SHUTDOWN_reboot     "Hardware Dom%u shutdown: rebooting machine\n"
#   SHUTDOWN_watchdog   "Hardware Dom%u shutdown: watchdog rebooting machine\n"
#   SHUTDOWN_soft_reset "Hardware domain %d did unsupported soft reset, rebooting.\n"
#   default             "Hardware Dom%u shutdown (unknown reason %u): " then maybe_reboot()
# SHUTDOWN_suspend (2) has no case of its own: it is the "unknown reason 2" line.
HWDOM_SHUTDOWN: tuple[tuple[re.Pattern[str], ExitCode | None], ...] = (
    (re.compile(r"^Hardware Dom\d+ halted: halting machine"), ExitCode.POWEROFF),
    (re.compile(r"^Hardware Dom\d+ crashed: "), ExitCode.CRASH),
    (re.compile(r"^Hardware Dom\d+ shutdown: rebooting machine"), ExitCode.REBOOT),
    (re.compile(r"^Hardware Dom\d+ shutdown: watchdog rebooting machine"), ExitCode.WATCHDOG),
    (re.compile(r"^Hardware domain \d+ did unsupported soft reset, rebooting"), ExitCode.SOFT_RESET),
    (re.compile(r"^Hardware Dom\d+ shutdown \(unknown reason 2\): "), ExitCode.SUSPEND),
    (re.compile(r"^Hardware Dom\d+ shutdown \(unknown reason \d+\): "), ExitCode.SHUTDOWN_OTHER),
)

# Xen's panic() ends with "Reboot in five seconds..." (xen/drivers/char/console.c); a panic while
# building a domain means Xen refused the image.
PANIC_END = re.compile(r"^Reboot in five seconds\.\.\.|^Manual reset required")
DOMAIN_BUILD_PANIC = re.compile(r"^Could not set up (DOM0 guest OS|domain )|^Unable to (copy|load|find) ")


def classify_xen_line(line: str) -> tuple[ExitCode, str] | None:
    """The exit code a Xen log line decides, with the line as the detail; None if it decides nothing."""
    for pattern, code in HWDOM_SHUTDOWN:
        if pattern.search(line):
            return code, line.strip()
    return None


@dataclass(frozen=True)
class OracleResult:
    """One boot of an image on real Xen 4.17 under QEMU."""

    console: bytes  # the guest's console transcript ("\r\n" from Xen's serial undone)
    xen_log: tuple[str, ...]  # Xen's lines, without the "(XEN) " prefix
    exit_code: ExitCode | None  # None: ended on ``stop_on`` before Xen said how the guest stopped
    detail: str  # why the run stopped, in Xen's words where it said any
    elapsed: float  # wall seconds from starting QEMU to its end
    raw: bytes  # QEMU's serial output exactly as received
    domid: int = 0

    def describe(self) -> str:
        if self.exit_code is None:
            return self.detail
        return f"{self.detail} (exit {int(self.exit_code)})"
