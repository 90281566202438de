#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# guest/linux/initramfs/build.sh - the Linux guest's initramfs: Debian's
# static busybox and init (this folder), as a gzip'd newc cpio that
# `coop run --kernel vmlinux --initrd FILE` loads.  No root needed: the
# device nodes come from devtmpfs at boot.
# Usage: guest/linux/initramfs/build.sh OUT [BUSYBOX]  (default /bin/busybox)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
[ $# -ge 1 ] && [ $# -le 2 ] || { echo "usage: $0 OUT [BUSYBOX]" >&2; exit 2; }
out=$1 busybox=${2:-/bin/busybox}
fail() { echo "guest/linux/initramfs/build.sh: $*" >&2; exit 1; }
for tool in cpio gzip; do
	command -v $tool >/dev/null || fail "$tool is missing"
done
[ -x "$busybox" ] || fail "$busybox is missing (apt-get install busybox-static)"
if command -v file >/dev/null; then
	file -L "$busybox" | grep -q 'statically linked' ||
		fail "$busybox is not statically linked (apt-get install busybox-static)"
fi

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,dev,proc,sys,tmp}
cp "$busybox" "$root/bin/busybox"
install -m 0755 "$here/init" "$root/init"
mkdir -p "$(dirname "$out")"
# Reproducible: sorted names, one timestamp, root's ownership.
find "$root" -exec touch -h -d @0 {} +
(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) | gzip -9n >"$out.tmp.$$"
mv -f "$out.tmp.$$" "$out"
