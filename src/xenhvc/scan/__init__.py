"""Static HVC call-site scanner: ``xenhvc scan`` and ``xenhvc density``.

The only capstone importer, and besides the loader's ELF parsing the only pyelftools importer. Candidates are found by encoding over the whole buffer (no full disassembly); capstone
decodes only a short window before each candidate.

    from xenhvc.scan import scan_file
    sites = scan_file("vmlinuz").sites
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .model import Hazard, Site, Target


@dataclass
class ScanResult:
    target: Target
    sites: list[Site]
    seconds: float


def scan_file(path: str | Path, isa: str | None = None, base: int | None = None) -> ScanResult:
    import time

    from .formats import load_target
    from .scanner import scan_target

    t0 = time.perf_counter()
    target = load_target(path, isa, base)
    sites = scan_target(target)
    return ScanResult(target, sites, time.perf_counter() - t0)


__all__ = ["Hazard", "ScanResult", "Site", "Target", "scan_file"]
