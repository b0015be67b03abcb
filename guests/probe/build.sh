#!/usr/bin/env bash
# Build guests/probe/probe-a64.Image (arm64 Linux Image, AArch64) from
# probe-a64.S (header, entry, EL1 vectors) and probe.c (the probes).
# Intermediate files go to a temporary directory that is removed on exit.
#
# Run it under real Xen (see /work/shared/design/ARCHITECTURE.md):
#   guests/probe/build.sh --run    # also writes probe-a64.transcript.txt
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

X=aarch64-linux-gnu-
for tool in ${X}gcc ${X}ld ${X}objcopy; do
    command -v "$tool" >/dev/null || { echo "build.sh: missing $tool" >&2; exit 1; }
done

CFLAGS=(-ffreestanding -nostdlib -fno-pic -fno-pie -O2 -Wall -Wextra -Werror
        -mgeneral-regs-only -mstrict-align -mcmodel=small
        -fno-stack-protector -fno-asynchronous-unwind-tables
        -fno-tree-loop-distribute-patterns)

"${X}gcc" -c -o "$tmp/start.o" "$here/probe-a64.S"
# EXTRA_CFLAGS: e.g. -DPROBE_NO_WATCHDOG (skip the run-ending watchdog probe)
# shellcheck disable=SC2206
CFLAGS+=(${EXTRA_CFLAGS:-})
"${X}gcc" "${CFLAGS[@]}" -c -o "$tmp/probe.o" "$here/probe.c"
"${X}ld" -nostdlib -static -no-pie --no-warn-rwx-segments -T "$here/probe.ld" -o "$tmp/probe.elf" \
    "$tmp/start.o" "$tmp/probe.o"
"${X}objcopy" -O binary "$tmp/probe.elf" "$tmp/probe.bin"
mv -f "$tmp/probe.bin" "$here/probe-a64.Image"
echo "built probe-a64.Image ($(stat -c %s "$here/probe-a64.Image") bytes)"

if [[ "${1:-}" == "--run" ]]; then
    XEN="${XEN:-$here/../../.cache/xen/boot/xen-4.17-arm64}"
    # -nic none: QEMU's virt machine otherwise adds a virtio NIC whose option
    # ROM (efi-virtio.rom) is not installed here.
    timeout 30 qemu-system-aarch64 -M virt,virtualization=on,gic-version=3 \
        -cpu cortex-a57 -smp 1 -m 1024 -nographic -no-reboot -nic none \
        -kernel "$XEN" \
        -append "dom0_mem=128M console=dtuart loglvl=all guest_loglvl=all dom0_max_vcpus=1" \
        -device guest-loader,addr=0x49000000,kernel="$here/probe-a64.Image",bootargs="console=hvc0" \
        > "$here/probe-a64.transcript.txt"
    echo "wrote probe-a64.transcript.txt"
fi
