#!/usr/bin/env bash
# Build guests/probe/probe-a32.zImage and probe-t32.zImage (Arm zImages,
# AArch32) from probe32.S (zImage header, entry, exception entries; ARM and
# Thumb code) and probe32.c (the probes), the C compiled once with -marm
# (probe-a32) and once with -mthumb (probe-t32).
# Intermediate files go to a temporary directory that is removed on exit.
#
# Run them under real Xen (see /work/shared/design/ARCHITECTURE.md):
#   guests/probe/build32.sh --run  # also writes probe-{a32,t32}.transcript.txt
# KEEP_ELF=DIR also copies the linked ELF files (for objdump) to DIR.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

X=arm-linux-gnueabihf-
for tool in ${X}gcc ${X}ld ${X}objcopy; do
    command -v "$tool" >/dev/null || { echo "build32.sh: missing $tool" >&2; exit 1; }
done

# armv7ve: hvc (virtualization extensions). -mfloat-abi=soft with
# -mgeneral-regs-only: no VFP/NEON (CPACR is off at entry). The MMU is off, so
# data accesses are Device/Strongly-ordered: no unaligned accesses.
ARCHFLAGS=(-march=armv7ve -mfloat-abi=soft)
CFLAGS=(-ffreestanding -nostdlib -fno-pic -fno-pie -O2 -Wall -Wextra -Werror
        "${ARCHFLAGS[@]}" -mgeneral-regs-only -mno-unaligned-access
        -fno-stack-protector -fno-asynchronous-unwind-tables -fno-unwind-tables
        -fno-tree-loop-distribute-patterns)
# shellcheck disable=SC2206
CFLAGS+=(${EXTRA_CFLAGS:-})

"${X}gcc" "${ARCHFLAGS[@]}" -c -o "$tmp/start.o" "$here/probe32.S"

build() {   # build NAME -marm|-mthumb
    local name="$1" isa="$2"
    "${X}gcc" "${CFLAGS[@]}" "$isa" -DPROBE_NAME="\"$name\"" -c -o "$tmp/$name.o" "$here/probe32.c"
    "${X}ld" -nostdlib -static -no-pie --no-warn-rwx-segments -T "$here/probe32.ld" \
        -o "$tmp/$name.elf" "$tmp/start.o" "$tmp/$name.o"
    "${X}objcopy" -O binary "$tmp/$name.elf" "$tmp/$name.bin"
    if [[ -n "${KEEP_ELF:-}" ]]; then cp "$tmp/$name.elf" "$KEEP_ELF/"; fi
    mv -f "$tmp/$name.bin" "$here/$name.zImage"
    echo "built $name.zImage ($(stat -c %s "$here/$name.zImage") bytes)"
}
build probe-a32 -marm
build probe-t32 -mthumb

if [[ "${1:-}" == "--run" ]]; then
    XEN="${XEN:-$here/../../.cache/xen/boot/xen-4.17-arm64}"
    for name in probe-a32 probe-t32; do
        # -nic none: QEMU's virt machine otherwise adds a virtio NIC whose
        # option ROM (efi-virtio.rom) is not installed here.
        timeout 30 qemu-system-aarch64 -M virt,virtualization=on,gic-version=3 \
            -cpu cortex-a57 -smp 1 -m 1024 -nographic -no-reboot -nic none \
            -kernel "$XEN" \
            -append "dom0_mem=128M console=dtuart loglvl=all guest_loglvl=all dom0_max_vcpus=1" \
            -device guest-loader,addr=0x49000000,kernel="$here/$name.zImage",bootargs="console=hvc0" \
            > "$here/$name.transcript.txt" || true
        echo "wrote $name.transcript.txt"
    done
fi
