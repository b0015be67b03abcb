"""Run a guest image (bytes or path) on the model with test-friendly defaults."""
from __future__ import annotations

from dataclasses import replace

from ..session import RunConfig, RunResult, run_image


def run_guest(image, config: RunConfig | None = None, **overrides) -> RunResult:
    """``run_image`` with tracing on and a 10 s wall-clock limit unless overridden."""
    base = config or RunConfig(trace=True, timeout=10.0)
    return run_image(image, replace(base, **overrides) if overrides else base)
