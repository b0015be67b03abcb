#!/usr/bin/env bash
# Run a built conformance image under real Xen 4.17 (QEMU) or the xenhvc model
# and print the guest's transcript: \r stripped, Xen's "(XEN)" lines dropped.
#   guests/conformance/run.sh a64|a32|t32 xen|model [XTEST]   (XTEST default: all)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
isa="$1" where="$2" sel="${3:-all}"
case "$isa" in
    a64) img="$root/guests/build/conformance-a64.Image" ;;
    a32|t32) img="$root/guests/build/conformance-$isa.zImage" ;;
    *) echo "run.sh: unknown ISA $isa" >&2; exit 2 ;;
esac
clean() { tr -d '\r' | grep -v '^(XEN)' || true; }
if [[ "$where" == xen ]]; then
    XEN="${XEN:-$root/.cache/xen/boot/xen-4.17-arm64}"
    timeout "${XEN_TIMEOUT:-60}" qemu-system-aarch64 -M virt,virtualization=on,gic-version=3 \
        -cpu cortex-a57 -smp 1 -m 1024 -nographic -no-reboot -nic none -kernel "$XEN" \
        -append "dom0_mem=128M console=dtuart loglvl=all guest_loglvl=all dom0_max_vcpus=1" \
        -device guest-loader,addr=0x49000000,kernel="$img",bootargs="xtest=$sel" </dev/null | clean
else
    "$root/.venv/bin/xenhvc" run "$img" --bootargs "xtest=$sel" --timeout 60 </dev/null 2>/dev/null | clean
fi
