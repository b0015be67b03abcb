#!/usr/bin/env python3
"""Benchmark: `xenhvc scan` against `objdump -D | grep hvc` on the same kernel image, same run.

    .venv/bin/python bench/scan_vs_objdump.py [--fetch] [IMAGE ...]

Without IMAGE it uses Debian's arm64 and armhf (armmp-lpae) kernels in .cache/kernels/ (with
--fetch it first downloads them with `apt-get download`, which needs `dpkg --add-architecture
arm64` and `armhf` and an `apt-get update`; the images never go into git).

* arm64 Image (plain or gzip): objdump sees the decompressed Image as a flat binary
  (`-b binary -m aarch64`), every word decoded; the scan must report exactly the same HVC words.
* Arm zImage: objdump cannot look inside the compressed kernel, so the payload is decompressed
  first (by xenhvc's zImage reader) and objdump decodes it as A32 (`-m arm`); the comparison is over
  A32 sites (a linear Thumb disassembly of a flat binary is not a reference: it loses sync).

Prints a table and the Xen hypercall stubs found; exit 1 if the sites differ.
"""
from __future__ import annotations

import argparse
import glob
import json
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".cache" / "kernels"
PY = sys.executable


def fetch() -> None:
    CACHE.mkdir(parents=True, exist_ok=True)
    for meta, arch in (("linux-image-arm64", "arm64"), ("linux-image-armmp-lpae", "armhf")):
        dep = subprocess.run(["apt-cache", "depends", f"{meta}:{arch}"], capture_output=True, text=True).stdout
        m = re.search(r"Depends: (linux-image-[^\s:]+)", dep)
        if not m:
            sys.exit(f"cannot resolve {meta}:{arch} (dpkg --add-architecture {arch}; apt-get update)")
        pkg = m.group(1)
        if not list(CACHE.glob(f"{pkg}_*.deb")):
            subprocess.run(["apt-get", "download", f"{pkg}:{arch}"], cwd=CACHE, check=True)
        deb = sorted(CACHE.glob(f"{pkg}_*.deb"))[-1]
        tar = subprocess.run(["dpkg-deb", "--fsys-tarfile", str(deb)], capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "--wildcards", "./boot/vmlinuz*"], input=tar, cwd=CACHE, check=True)


def default_images() -> list[str]:
    return sorted(glob.glob(str(CACHE / "boot" / "vmlinuz-*-arm64"))) + \
        sorted(glob.glob(str(CACHE / "boot" / "vmlinuz-*-armmp-lpae")))


def run_scan(image: str) -> tuple[float, dict]:
    t0 = time.perf_counter()
    out = subprocess.run([PY, "-m", "xenhvc.scan", "scan", "--json", image], capture_output=True, text=True,
                         cwd=ROOT)
    dt = time.perf_counter() - t0
    if out.returncode != 0:
        sys.exit(f"xenhvc scan failed: {out.stderr.strip()}")
    return dt, json.loads(out.stdout)


_LINE = re.compile(r"^\s*([0-9a-f]+):\s+([0-9a-f]{8})\s+hvc\s+#?(0x[0-9a-f]+|\d+)")


def run_objdump(flat: Path, machine: str, tool: str) -> tuple[float, set[tuple[int, int]]]:
    t0 = time.perf_counter()
    cmd = f"{tool} -D -b binary -m {machine} {flat} | grep hvc"
    out = subprocess.run(["bash", "-c", cmd], capture_output=True, text=True)
    dt = time.perf_counter() - t0
    sites = set()
    for line in out.stdout.splitlines():
        m = _LINE.match(line)
        if m:
            imm = m.group(3)
            sites.add((int(m.group(1), 16), int(imm, 16) if imm.startswith("0x") else int(imm)))
    return dt, sites


def flat_code(image: str) -> tuple[str, Path, str, str]:
    """(kind, flat binary for objdump, objdump -m, region name in the scan) for an image."""
    sys.path.insert(0, str(ROOT / "src"))
    from xenhvc.scan.formats import load_target

    target = load_target(image)
    if target.format.endswith("arm64-image"):
        region = target.regions[0]
        flat = Path(image)
        if target.format.startswith("gzip"):
            flat = CACHE / (Path(image).name + ".Image")
            if not flat.exists():
                flat.write_bytes(region.data)
        return "arm64", flat, "aarch64", region.name
    if target.format == "zimage":
        region = target.regions[-1]
        flat = CACHE / (Path(image).name + f".{region.name}.bin")
        if not flat.exists():
            flat.write_bytes(region.data)
        return "armhf", flat, "arm", region.name
    sys.exit(f"{image}: {target.format} is not a kernel image this benchmark knows")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("images", nargs="*")
    ap.add_argument("--fetch", action="store_true", help="apt-get download Debian's kernels into .cache/kernels")
    ap.add_argument("--json", dest="json_out", help="also write the results as JSON here")
    args = ap.parse_args()
    if args.fetch:
        fetch()
    images = args.images or default_images()
    if not images:
        sys.exit("no images: pass IMAGE or use --fetch")
    ok = True
    results = []
    for image in images:
        kind, flat, machine, region = flat_code(image)
        tool = "aarch64-linux-gnu-objdump" if kind == "arm64" else "arm-linux-gnueabihf-objdump"
        t_scan, data = run_scan(image)
        t_obj, obj_sites = run_objdump(flat, machine, tool)
        isa = "a64" if kind == "arm64" else "a32"
        scan_sites = {(s["address"], s["imm"]) for s in data["sites"] if s["region"] == region and s["isa"] == isa}
        same = scan_sites == obj_sites
        ok &= same
        stubs = [s for s in data["sites"] if s["kind"] == "xen"]
        results.append({
            "image": Path(image).name, "size": flat.stat().st_size, "scan_s": round(t_scan, 3),
            "objdump_s": round(t_obj, 3), "speedup": round(t_obj / t_scan, 1), "scan_sites": len(scan_sites),
            "objdump_sites": len(obj_sites), "identical": same,
            "only_scan": sorted(scan_sites - obj_sites)[:10], "only_objdump": sorted(obj_sites - scan_sites)[:10],
            "xen_sites": [(hex(s["address"]), s["isa"], s["name"] or f"dynamic: {s['dynamic']}") for s in stubs],
            "all_sites": len(data["sites"]),
        })
        r = results[-1]
        print(f"{r['image']}: {r['size'] / 2**20:.1f} MiB of {kind} code; xenhvc scan {r['scan_s']:.2f} s, "
              f"objdump -D | grep hvc {r['objdump_s']:.2f} s -> {r['speedup']}x; {isa} HVC sites: scan "
              f"{r['scan_sites']}, objdump {r['objdump_sites']}, {'identical' if same else 'DIFFERENT'}")
        if not same:
            print(f"  only in scan: {r['only_scan']}\n  only in objdump: {r['only_objdump']}")
        print(f"  Xen #0xea1 sites ({len(stubs)}): " + ", ".join(f"{n}@{a}" for a, _, n in r["xen_sites"]))
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(results, indent=1) + "\n")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
