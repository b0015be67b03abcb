"""The one compiled part of xenhvc (metadata lives in pyproject.toml): a block hook in C that
filters the unmask watch natively. xenhvc runs without it (cpu/native falls back to Python)."""
from setuptools import Extension, setup

setup(ext_modules=[Extension("xenhvc.cpu.native._watch", ["src/xenhvc/cpu/native/watch.c"],
                             extra_compile_args=["-O2"], optional=True)])
