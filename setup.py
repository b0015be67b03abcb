"""The one compiled part of xenhvc (metadata lives in pyproject.toml): native Unicorn hooks for
the --deterministic clock and the hypercall fast path, and the run's wall-clock timer
(src/xenhvc/cpu/native). xenhvc runs without them (cpu/native falls back to Python hooks)."""
from setuptools import Extension, setup

NATIVE = "src/xenhvc/cpu/native/"
setup(ext_modules=[Extension("xenhvc.cpu.native._native", [NATIVE + f for f in ("module.c", "clock.c", "hvc.c", "timer.c", "scan.c", "tbstart.c")],
                             extra_compile_args=["-O2"], optional=True)])
