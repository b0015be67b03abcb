#!/usr/bin/env bash
# Debian 12's stock arm64 Linux kernel and two busybox initramfs, for booting Linux as dom0 on
# real Xen (xenhvc oracle --initrd) and on the model (xenhvc run --initrd). Into .cache/linux/:
#   linux-image-<release>_<version>_arm64.deb, busybox-static_<version>_arm64.deb  (apt-get download)
#   vmlinuz-<release>      the kernel as the package ships it (/boot/vmlinuz-<release>)
#   Image                  the same kernel as an uncompressed arm64 Image (gunzipped if it was gzip)
#   kernel-release         "<release> <package version>", e.g. "6.1.0-56-arm64 6.1.192-2"
#   busybox                busybox-static's /bin/busybox (static arm64 binary)
#   initramfs.cpio.gz      /init = guests/linux/init-poweroff: uname -a, /proc/cmdline, poweroff -f
#   initramfs-shell.cpio.gz /init = guests/linux/init-shell: an interactive sh on hvc0
# The kernel is the one linux-image-arm64:arm64 depends on now (apt's current lists): when Debian
# moves to a new ABI, a re-run fetches it. Idempotent: what is there and current is kept.
# Needs apt with the arm64 architecture added (scripts/setup.sh does it) and python3; no root
# unless apt's lists have to be refreshed.
#   guests/linux/build.sh
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="$root/.cache/linux"
PY="${PY:-python3}"
mkdir -p "$out"

die() { echo "guests/linux/build.sh: $*" >&2; exit 1; }

refreshed=""
refresh_lists() {  # once, and only as root; a mirror mid-sync may fail one index: go on
  [[ -z "$refreshed" && $(id -u) -eq 0 ]] || return 1
  refreshed=1
  apt-get update -qq || echo "guests/linux/build.sh: warning: apt-get update reported errors" >&2
}

# The kernel package linux-image-arm64 depends on, e.g. linux-image-6.1.0-56-arm64.
kernel_package() {
  apt-cache depends linux-image-arm64:arm64 2>/dev/null \
    | awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { sub(/:arm64$/, "", $2); print $2; exit }'
}

# download PACKAGE [ARCH [DIR]]: the .deb of its candidate version (arm64 into $out by default),
# kept if already there; prints its path.
download() {
  local pkg="$1" arch="${2:-arm64}" dir="${3:-$out}" version deb
  version=$(apt-cache policy "$pkg:$arch" 2>/dev/null | awk '$1 == "Candidate:" { print $2 }')
  [[ -n "$version" && "$version" != "(none)" ]] || return 1
  deb="$dir/${pkg}_${version/:/%3a}_$arch.deb"  # apt-get download's name for it
  if [[ ! -s "$deb" ]]; then
    # as root, apt's _apt sandbox user cannot write into .cache/: say so rather than be warned
    local sandbox=(); [[ $(id -u) -ne 0 ]] || sandbox=(-o APT::Sandbox::User=root)
    (cd "$dir" && apt-get download -qq "${sandbox[@]}" "$pkg:$arch=$version") >&2 || return 1
    [[ -s "$deb" ]] || return 1
    local old  # other versions of the package, from earlier runs
    for old in "$dir/${pkg}_"*_"$arch".deb; do [[ "$old" == "$deb" ]] || rm -f "$old"; done
  fi
  echo "$deb"
}

pkg=$(kernel_package) || true
if [[ -z "$pkg" ]]; then
  refresh_lists || true
  pkg=$(kernel_package) || true
fi
[[ -n "$pkg" ]] || die "apt knows no linux-image-arm64:arm64 (is the arm64 architecture added? run scripts/setup.sh)"
release=${pkg#linux-image-}

kernel_deb=$(download "$pkg") || { refresh_lists && kernel_deb=$(download "$pkg"); } \
  || die "cannot download $pkg:arm64"
busybox_deb=$(download busybox-static) || { refresh_lists && busybox_deb=$(download busybox-static); } \
  || die "cannot download busybox-static:arm64"

# The kernel: only /boot/vmlinuz-<release> out of the package (not its modules).
kversion=$(dpkg-deb -f "$kernel_deb" Version)
if [[ ! -s "$out/Image" || "$(cat "$out/kernel-release" 2>/dev/null)" != "$release $kversion" ]]; then
  dpkg-deb --fsys-tarfile "$kernel_deb" | tar -xO "./boot/vmlinuz-$release" > "$out/vmlinuz-$release.tmp"
  [[ -s "$out/vmlinuz-$release.tmp" ]] || die "$kernel_deb has no /boot/vmlinuz-$release"
  mv "$out/vmlinuz-$release.tmp" "$out/vmlinuz-$release"
  if gzip -t "$out/vmlinuz-$release" 2>/dev/null; then
    gzip -dc "$out/vmlinuz-$release" > "$out/Image.tmp"
  else
    cp "$out/vmlinuz-$release" "$out/Image.tmp"
  fi
  # an arm64 Image has "ARM\x64" at offset 56
  [[ "$(dd if="$out/Image.tmp" bs=1 skip=56 count=4 status=none | od -An -tx1 | tr -d ' \n')" == 41524d64 ]] \
    || die "/boot/vmlinuz-$release in $kernel_deb is not an arm64 Image"
  mv "$out/Image.tmp" "$out/Image"
  echo "$release $kversion" > "$out/kernel-release"
fi

# busybox, then the two initramfs (rebuilt when busybox or an init script is newer).
if [[ ! -s "$out/busybox" || "$busybox_deb" -nt "$out/busybox" ]]; then
  dpkg-deb --fsys-tarfile "$busybox_deb" | tar -xO ./bin/busybox > "$out/busybox.tmp"
  [[ -s "$out/busybox.tmp" ]] || die "$busybox_deb has no /bin/busybox"
  mv "$out/busybox.tmp" "$out/busybox"
fi
for pair in "init-poweroff:initramfs.cpio.gz" "init-shell:initramfs-shell.cpio.gz"; do
  init="$here/${pair%%:*}" cpio="$out/${pair#*:}"
  if [[ ! -s "$cpio" || "$init" -nt "$cpio" || "$out/busybox" -nt "$cpio" || "$here/mkinitramfs.py" -nt "$cpio" ]]; then
    "$PY" "$here/mkinitramfs.py" --busybox "$out/busybox" --init "$init" -o "$cpio"
  fi
done

echo "guests/linux/build.sh: Linux $release ($kversion), busybox $(dpkg-deb -f "$busybox_deb" Version) in ${out#"$root"/}/"

# The armhf (AArch32) counterpart, when apt has the armhf architecture: Debian's LPAE kernel
# (linux-image-armmp-lpae, a zImage) and an initramfs with busybox-static:armhf, into
# .cache/linux/armhf/: zImage, kernel-release, busybox, initramfs.cpio.gz (init-poweroff).
if dpkg --print-foreign-architectures | grep -qx armhf; then
  hf="$out/armhf"
  mkdir -p "$hf"
  hf_pkg=$(apt-cache depends linux-image-armmp-lpae:armhf 2>/dev/null \
    | awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { sub(/:armhf$/, "", $2); print $2; exit }') || true
  if [[ -n "$hf_pkg" ]] && hf_kernel=$(download "$hf_pkg" armhf "$hf") && hf_busybox=$(download busybox-static armhf "$hf"); then
    hf_release=${hf_pkg#linux-image-} hf_version=$(dpkg-deb -f "$hf_kernel" Version)
    if [[ ! -s "$hf/zImage" || "$(cat "$hf/kernel-release" 2>/dev/null)" != "$hf_release $hf_version" ]]; then
      dpkg-deb --fsys-tarfile "$hf_kernel" | tar -xO "./boot/vmlinuz-$hf_release" > "$hf/zImage.tmp"
      [[ -s "$hf/zImage.tmp" ]] || die "$hf_kernel has no /boot/vmlinuz-$hf_release"
      mv "$hf/zImage.tmp" "$hf/zImage"
      echo "$hf_release $hf_version" > "$hf/kernel-release"
    fi
    if [[ ! -s "$hf/busybox" || "$hf_busybox" -nt "$hf/busybox" ]]; then
      dpkg-deb --fsys-tarfile "$hf_busybox" | tar -xO ./bin/busybox > "$hf/busybox.tmp"
      mv "$hf/busybox.tmp" "$hf/busybox"
    fi
    if [[ ! -s "$hf/initramfs.cpio.gz" || "$here/init-poweroff" -nt "$hf/initramfs.cpio.gz" || "$hf/busybox" -nt "$hf/initramfs.cpio.gz" ]]; then
      "$PY" "$here/mkinitramfs.py" --busybox "$hf/busybox" --init "$here/init-poweroff" -o "$hf/initramfs.cpio.gz"
    fi
    echo "guests/linux/build.sh: armhf Linux $hf_release ($hf_version) in ${hf#"$root"/}/"
  else
    echo "guests/linux/build.sh: warning: could not fetch the armhf kernel or busybox; skipping armhf" >&2
  fi
fi
