#!/usr/bin/env bash
# Sets up everything xenhvc needs on a fresh Debian 12 machine (run as root).
# Idempotent: re-running it skips what is already there.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"

export DEBIAN_FRONTEND=noninteractive
need_apt=()
for pkg in qemu-system-arm binutils-aarch64-linux-gnu binutils-arm-linux-gnueabihf \
           gcc-aarch64-linux-gnu gcc-arm-linux-gnueabihf device-tree-compiler linux-libc-dev; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need_apt+=("$pkg")
done
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
  dpkg --add-architecture arm64
  need_update=1
fi
if [ ${#need_apt[@]} -gt 0 ] || [ -n "${need_update:-}" ] || [ ! -d .cache/xen ]; then
  apt-get update -qq
fi
if [ ${#need_apt[@]} -gt 0 ]; then
  apt-get install -y -qq --no-install-recommends "${need_apt[@]}"
fi

# Real Xen 4.17 (the oracle): Debian's arm64 hypervisor package, extracted into a project-local cache.
if [ ! -f .cache/xen/boot/xen-4.17-arm64 ]; then
  mkdir -p .cache/xen .cache/deb
  (cd .cache/deb && apt-get download -qq xen-hypervisor-4.17-arm64:arm64)
  dpkg-deb -x .cache/deb/xen-hypervisor-4.17-arm64_*.deb .cache/xen
fi

# The Python package and its test tools, in a project-local virtual environment.
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/pip install -q --disable-pip-version-check -e '.[test,plot,compress]'
