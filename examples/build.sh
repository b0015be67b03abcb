#!/usr/bin/env bash
# Build the example guests with Debian's cross binutils.
#   examples/hello-a64.Image    arm64 Linux Image (AArch64)
#   examples/hello-a32.zImage   Arm zImage (A32)
#   examples/hello-t32.zImage   Arm zImage (ARM header, then Thumb-2)
# Intermediate files go to a temporary directory that is removed on exit.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
src="$here/src"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

A64=aarch64-linux-gnu-
A32=arm-linux-gnueabihf-
for tool in ${A64}gcc ${A64}ld ${A64}objcopy ${A32}gcc ${A32}ld ${A32}objcopy; do
    command -v "$tool" >/dev/null || { echo "build.sh: missing $tool" >&2; exit 1; }
done

# build PREFIX SOURCE OUTPUT
build() {
    local cross="$1" name="$2" out="$3"
    # gcc only runs the C preprocessor and the assembler here (-c on a .S file)
    "${cross}gcc" -c -nostdlib -ffreestanding -o "$tmp/$name.o" "$src/$name.S"
    "${cross}ld" -nostdlib -static -T "$src/image.ld" -o "$tmp/$name.elf" "$tmp/$name.o"
    "${cross}objcopy" -O binary "$tmp/$name.elf" "$tmp/$name.bin"
    mv -f "$tmp/$name.bin" "$here/$out"
    echo "built $out ($(stat -c %s "$here/$out") bytes)"
}

build "$A64" hello-a64 hello-a64.Image
build "$A32" hello-a32 hello-a32.zImage
build "$A32" hello-t32 hello-t32.zImage
