#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# guest/linux/build.sh - build the Linux guest (vmlinux) from Debian's
# linux-source-6.1: unpack, copy overlay/, apply series, merge coop.config
# onto tinyconfig and check it, make vmlinux.  Results are cached by source
# version and a hash of every input, so a warm cache costs nothing.
#
# Usage: guest/linux/build.sh [--out FILE] [--tree DIR] [--key] [--jobs N]
#   --out FILE   copy the vmlinux there, its .config to FILE.config (else:
#                print the vmlinux's path in the cache)
#   --tree DIR   build in DIR (default: a stable work tree in the cache,
#                kept for incremental rebuilds while developing)
#   --key        print the cache key and exit
# Environment: XDG_CACHE_HOME (cache root), COOP_LINUX_SOURCE (the tarball).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
abi=$repo/hypervisor-shim/include/coop/abi.h
tarball=${COOP_LINUX_SOURCE:-/usr/src/linux-source-6.1.tar.xz}
cache=${XDG_CACHE_HOME:-$HOME/.cache}/coop/linux

out= tree= print_key= jobs=$(nproc)
while [ $# -gt 0 ]; do
	case $1 in
	--out) out=$2; shift 2 ;;
	--tree) tree=$2; shift 2 ;;
	--key) print_key=1; shift ;;
	--jobs) jobs=$2; shift 2 ;;
	*) echo "usage: $0 [--out FILE] [--tree DIR] [--key] [--jobs N]" >&2; exit 2 ;;
	esac
done

fail() { echo "guest/linux/build.sh: $*" >&2; exit 1; }

version=$(dpkg-query -W -f='${Version}' linux-source-6.1 2>/dev/null) ||
	fail "linux-source-6.1 is not installed (apt-get install linux-source-6.1)"
[ -r "$tarball" ] || fail "$tarball is missing (linux-source-6.1 $version installed?)"

# The inputs, by path relative to guest/linux/ (abi.h by its repository path).
inputs() {
	(cd "$here" && { echo series coop.config build.sh check-config.sh; find patches overlay -type f; } |
		tr ' ' '\n' | LC_ALL=C sort)
}
key=$(
	{
		inputs | while read -r f; do printf '%s %s\n' "$(sha256sum <"$here/$f" | cut -c1-64)" "$f"; done
		printf '%s %s\n' "$(sha256sum <"$abi" | cut -c1-64)" hypervisor-shim/include/coop/abi.h
	} | sha256sum | cut -c1-64
)
dir=$cache/$version-$key
if [ -n "$print_key" ]; then
	echo "$version-$key"
	exit 0
fi

deliver() {
	if [ -n "$out" ]; then
		mkdir -p "$(dirname "$out")"
		cp "$dir/config" "$out.config.tmp.$$" && mv -f "$out.config.tmp.$$" "$out.config"
		cp "$dir/vmlinux" "$out.tmp.$$" && mv -f "$out.tmp.$$" "$out"
	else
		echo "$dir/vmlinux"
	fi
}

# Warm cache: nothing to do.
if [ -f "$dir/vmlinux" ]; then
	deliver
	exit 0
fi

for tool in flex bison bc gcc make perl; do
	command -v $tool >/dev/null || fail "$tool is missing (scripts/install-deps)"
done
[ -e /usr/include/libelf.h ] || [ -e /usr/include/gelf.h ] ||
	fail "libelf-dev is missing (objtool needs it; scripts/install-deps)"

mkdir -p "$cache"
# One build at a time per cache (CMake and ctest may both ask).
exec 9>"$cache/lock"
flock 9
if [ -f "$dir/vmlinux" ]; then
	deliver
	exit 0
fi

tree=${tree:-$cache/tree}
state=$tree/.coop # what this script did to the tree: version, applied patches

# A tree of another source version, or one whose patches cannot be taken
# back, is unpacked again; otherwise it is reused (incremental build).
unpack() {
	echo "guest/linux/build.sh: unpacking linux-source-6.1 $version into $tree" >&2
	rm -rf "$tree"
	mkdir -p "$tree"
	nice tar -xJf "$tarball" -C "$tree" --strip-components=1
	mkdir -p "$state/applied"
	echo "$version" >"$state/version"
	: >"$state/series"
}
if [ ! -f "$state/version" ] || [ "$(cat "$state/version")" != "$version" ]; then
	unpack
fi

# The series as applied.  When it changed, the files the old and the new
# series touch are staged in a scratch copy: the old patches come off
# there, the new ones go on, and only files whose text changed are copied
# back (make rebuilds what changed, not everything that includes a
# patched header).  Old patches that do not come off: unpack again.
touched() { sed -n -e 's#^+++ b/\([^\t ]*\).*#\1#p' -e 's#^--- a/\([^\t ]*\).*#\1#p' "$@"; }
new_series=$(sed '/^$/d' "$here/series")
series_sum=$(cd "$here" && { cat series; for p in $new_series; do cat "patches/$p"; done; } | sha256sum)
if [ "$(cat "$state/series.sum" 2>/dev/null)" != "$series_sum" ]; then
	for p in $new_series; do
		[ -f "$here/patches/$p" ] || fail "series names patches/$p, which does not exist"
	done
	scratch=$(mktemp -d)
	trap 'rm -rf "$scratch"' EXIT
	old_series=$(cat "$state/series")
	files=$( { for p in $old_series; do touched "$state/applied/$p"; done
		 for p in $new_series; do touched "$here/patches/$p"; done; } | LC_ALL=C sort -u)
	stage() {
		rm -rf "$scratch"/*
		for f in $files; do
			[ -e "$tree/$f" ] || continue
			mkdir -p "$scratch/$(dirname "$f")"
			cp -p "$tree/$f" "$scratch/$f"
		done
	}
	stage
	for p in $(echo "$old_series" | tac); do
		if ! patch -d "$scratch" -p1 -R -s --no-backup-if-mismatch <"$state/applied/$p" >/dev/null; then
			unpack
			stage
			break
		fi
	done
	for p in $new_series; do
		patch -d "$scratch" -p1 -s -N --no-backup-if-mismatch <"$here/patches/$p" >/dev/null ||
			fail "patches/$p does not apply to linux-source-6.1 $version (dpkg-query -W linux-source-6.1); rebase it"
	done
	for f in $files; do
		if [ -e "$scratch/$f" ]; then
			cmp -s "$scratch/$f" "$tree/$f" || { mkdir -p "$(dirname "$tree/$f")"; cp "$scratch/$f" "$tree/$f"; }
		else
			rm -f "$tree/$f"
		fi
	done
	rm -rf "$state/applied"
	mkdir -p "$state/applied"
	for p in $new_series; do cp "$here/patches/$p" "$state/applied/$p"; done
	echo "$new_series" >"$state/series"
	echo "$series_sum" >"$state/series.sum"
fi

# The overlay: new files only; copy what changed (unchanged files keep
# their times, so make rebuilds only what changed).
(cd "$here/overlay" && find . -type f) | while read -r f; do
	if [ -e "$tree/$f" ] && ! [ -e "$state/overlay/$f" ]; then
		fail "overlay/$f exists in Linux: change it with a patch, not the overlay"
	fi
	mkdir -p "$(dirname "$tree/$f")" "$(dirname "$state/overlay/$f")"
	cmp -s "$here/overlay/$f" "$tree/$f" || cp "$here/overlay/$f" "$tree/$f"
	: >"$state/overlay/$f"
done

# Called from CMake's make, we are not part of its jobserver: ours is -j$jobs.
unset MAKEFLAGS MFLAGS MAKELEVEL

# The configuration: tinyconfig, then our fragment; the merge only warns
# about values that do not stick, so check every one of them here.
make_() { nice make -C "$tree" -s "$@" COOP_INCLUDE="$repo/hypervisor-shim/include" \
	KBUILD_BUILD_USER=coop KBUILD_BUILD_HOST=coop; }
make_ tinyconfig >/dev/null
(cd "$tree" && nice scripts/kconfig/merge_config.sh -m .config "$here/coop.config" >/dev/null)
# (olddefconfig warns of each choice the fragment overrides: expected.)
make_ olddefconfig >"$state/olddefconfig.log" 2>&1 || {
	cat "$state/olddefconfig.log" >&2
	fail "make olddefconfig failed"
}
"$here/check-config.sh" "$here/coop.config" "$tree/.config" ||
	fail "the merged .config lost the values above: fix coop.config (or their dependencies)"

echo "guest/linux/build.sh: building vmlinux (linux-source-6.1 $version, make -j$jobs)" >&2
make_ -j"$jobs" vmlinux
[ -f "$tree/vmlinux" ] || fail "make vmlinux left no vmlinux"

tmp=$dir.tmp.$$
rm -rf "$tmp"
mkdir -p "$tmp"
cp "$tree/vmlinux" "$tmp/vmlinux"
cp "$tree/.config" "$tmp/config"
rm -rf "$dir"
mv "$tmp" "$dir"
# Keep the four newest results (each is a vmlinux of ~30 MB), and the tree.
find "$cache" -mindepth 1 -maxdepth 1 -type d -regextype posix-extended \
	-regex '.*/[^/]+-[0-9a-f]{64}' -printf '%T@ %p\n' | sort -rn | tail -n +5 |
	cut -d' ' -f2- | while read -r old; do rm -rf "$old"; done
deliver
