"""Why a run ended, and the exit code that says so (documented in ``xenhvc run --help``)."""
from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from .abi.sched import Shutdown


class ExitCode(IntEnum):
    POWEROFF = 0
    USAGE = 2
    BAD_IMAGE = 3
    REBOOT = 10
    SUSPEND = 11
    CRASH = 12
    WATCHDOG = 13
    SOFT_RESET = 14
    SHUTDOWN_OTHER = 15
    INSTRUCTION_LIMIT = 20
    TIME_LIMIT = 21
    IDLE = 22
    GUEST_EXCEPTION = 30
    NOT_MODELLED = 40
    TOOL_MISSING = 69
    INTERNAL = 70


_SHUTDOWN_EXIT = {
    Shutdown.SHUTDOWN_poweroff: ExitCode.POWEROFF,
    Shutdown.SHUTDOWN_reboot: ExitCode.REBOOT,
    Shutdown.SHUTDOWN_suspend: ExitCode.SUSPEND,
    Shutdown.SHUTDOWN_crash: ExitCode.CRASH,
    Shutdown.SHUTDOWN_watchdog: ExitCode.WATCHDOG,
    Shutdown.SHUTDOWN_soft_reset: ExitCode.SOFT_RESET,
}


class StopKind(IntEnum):
    SHUTDOWN = 0
    INSTRUCTION_LIMIT = 1
    TIME_LIMIT = 2
    IDLE = 3
    GUEST_EXCEPTION = 4


@dataclass(frozen=True)
class StopReason:
    kind: StopKind
    detail: str
    shutdown_reason: int | None = None

    @property
    def exit_code(self) -> ExitCode:
        if self.kind is StopKind.SHUTDOWN:
            return _SHUTDOWN_EXIT.get(self.shutdown_reason, ExitCode.SHUTDOWN_OTHER)
        return {StopKind.INSTRUCTION_LIMIT: ExitCode.INSTRUCTION_LIMIT, StopKind.TIME_LIMIT: ExitCode.TIME_LIMIT,
                StopKind.IDLE: ExitCode.IDLE, StopKind.GUEST_EXCEPTION: ExitCode.GUEST_EXCEPTION}[self.kind]

    @classmethod
    def shutdown(cls, reason: int) -> StopReason:
        try:
            name = Shutdown(reason).name
        except ValueError:
            name = f"reason {reason}"
        return cls(StopKind.SHUTDOWN, f"domain shut down: {name}", reason)

    def describe(self) -> str:
        return f"{self.detail} (exit {int(self.exit_code)})"
