#!/usr/bin/env bash
# Sets up everything xenhvc needs on a fresh Debian 12 machine (run as root).
# Idempotent: re-running it skips what is already there.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"

export DEBIAN_FRONTEND=noninteractive

# A mirror that is mid-sync can fail one index (apt-get update then exits non-zero while the
# lists it needs are fine): warn and go on; a package that really cannot be had fails below.
apt_update() {
  apt-get update -qq || echo "setup.sh: warning: apt-get update reported errors; continuing with the lists there are" >&2
}

need_apt=()
for pkg in qemu-system-arm binutils-aarch64-linux-gnu binutils-arm-linux-gnueabihf \
           gcc-aarch64-linux-gnu gcc-arm-linux-gnueabihf device-tree-compiler linux-libc-dev \
           lzop liblzo2-dev gcc python3-dev; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need_apt+=("$pkg")
done
updated=""
for arch in arm64 armhf; do  # Xen's package and Debian's arm64 kernel; the armhf kernel (guests/linux)
  if ! dpkg --print-foreign-architectures | grep -qx "$arch"; then
    dpkg --add-architecture "$arch"
    apt_update; updated=1
  fi
done
if [ ${#need_apt[@]} -gt 0 ]; then
  [ -n "$updated" ] || { apt_update; updated=1; }
  apt-get install -y -qq --no-install-recommends "${need_apt[@]}"
fi

# Real Xen 4.17 (the oracle): Debian's arm64 hypervisor package, extracted into a project-local cache.
if [ ! -f .cache/xen/boot/xen-4.17-arm64 ]; then
  mkdir -p .cache/xen .cache/deb
  download() { (cd .cache/deb && apt-get download -qq xen-hypervisor-4.17-arm64:arm64); }
  download || { [ -n "$updated" ] || apt_update; download; }
  dpkg-deb -x .cache/deb/xen-hypervisor-4.17-arm64_*.deb .cache/xen
fi
if ! grep -aq 'xen,xen-4\.17' .cache/xen/boot/xen-4.17-arm64; then
  echo "setup.sh: .cache/xen/boot/xen-4.17-arm64 is not Xen 4.17" >&2
  exit 1
fi

# Debian 12's arm64 Linux kernel and busybox initramfs in .cache/linux/, to boot Linux as dom0
# (guests/linux/build.sh says what is there). Optional: without them only Linux guests are missing.
bash guests/linux/build.sh || echo "setup.sh: warning: guests/linux/build.sh failed; no Linux kernel or initramfs in .cache/linux/ (the rest of xenhvc is unaffected)" >&2

# The Python package and its test tools, in a project-local virtual environment.
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/pip install -q --disable-pip-version-check -e '.[test,plot,compress]'
# Compile the sources to bytecode as pip does for a regular install (an editable one leaves that
# to the first import, which never happens with PYTHONDONTWRITEBYTECODE set): every run would
# otherwise compile its modules again (the tiny example guest: 0.26-0.47 s against 0.23-0.31 s).
.venv/bin/python -m compileall -q src/xenhvc
