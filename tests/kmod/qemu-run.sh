#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# qemu-run.sh - test the kmod backend in QEMU: build coop.ko against Debian's
# kernel headers, fetch the kernel image of the same ABI, pack an initramfs
# (static busybox, the module, coop and the guest, the tests) and boot it;
# the in-guest test status comes back as a marker on the serial console.
#
#   tests/kmod/qemu-run.sh [--cpu max|max-pti|qemu64|MODEL] [--smp N] [--keep]
#                          [--boot bzimage|pvh] [--script FILE] [--timeout SECONDS]
#
#   --cpu      the QEMU CPU model (max-pti: max as an Intel CPU, so that the
#              kernel isolates page tables); default max
#   --smp      CPUs of the VM (default 1; ctest uses 2)
#   --boot     bzimage (what turns 5-level paging on; default for max) or
#              pvh (the bare vmlinux, seconds faster; default otherwise)
#   --script   the in-guest test script (default tests/kmod/tests.sh)
#   --keep     keep the run's directory (initramfs, console) in COOP_KMOD_DIR
#
# ctest runs it (label kmod) with COOP, COOP_GUEST, COOP_KMOD_IOCTL and
# COOP_KMOD_DIR set; by hand, from the repository, the defaults find
# build/.  Exit: the in-guest status (0 passed, 1 failed), 1 when no
# status came back (a panic, a hang, QEMU failing), 77 when a requirement
# cannot be met here (no QEMU, no headers, no way to fetch the kernel).
# KVM is used only where /dev/kvm works and the CPU has vmx or svm
# (COOP_KMOD_ACCEL=tcg|kvm overrides); elsewhere QEMU emulates (TCG), and
# any timing it prints is a TCG figure, not a hardware one.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src=$(cd "$here/../.." && pwd)
build=${COOP_BUILD:-$src/build}
COOP=${COOP:-$build/bin/coop}
COOP_GUEST=${COOP_GUEST:-$build/bin/coop-guest.elf}
COOP_KMOD_IOCTL=${COOP_KMOD_IOCTL:-$build/tests/coop-kmod-ioctl}
dir=${COOP_KMOD_DIR:-$build/kmod}

cpu=max smp=1 mem=512M keep=0 timeout=300 boot=
script=$here/tests.sh
while [ $# -gt 0 ]; do
	case $1 in
	--cpu) cpu=$2; shift 2 ;;
	--smp) smp=$2; shift 2 ;;
	--script) script=$(realpath "$2"); shift 2 ;;
	--timeout) timeout=$2; shift 2 ;;
	--boot) boot=$2; shift 2 ;;
	--keep) keep=1; shift ;;
	-h|--help) sed -n '3,26p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "qemu-run.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
	esac
done

skip() { echo "SKIP: $*"; exit 77; }
die() { echo "FAIL: $*"; exit 1; }
step() { printf '%-9s %s\n' "[$1]" "$2"; }

# ---- What this needs ------------------------------------------------------
[ "$(uname -m)" = x86_64 ] || skip "the kmod backend is x86-64 only"
for tool in qemu-system-x86_64 cpio xz make gcc; do
	command -v "$tool" >/dev/null || skip "$tool is missing (scripts/install-deps installs it)"
done
busybox=/bin/busybox
[ -x "$busybox" ] && ! readelf -l "$busybox" 2>/dev/null | grep -q INTERP ||
	skip "$busybox is not a static busybox (Debian: busybox-static)"
for f in "$COOP" "$COOP_GUEST" "$COOP_KMOD_IOCTL"; do
	[ -e "$f" ] || die "$f is missing: build first (cmake --build build)"
done
# Debian's headers for its kernel: the newest linux-headers-*-amd64.
kdir=${KDIR:-$(ls -d /usr/src/linux-headers-*-amd64 2>/dev/null | sort -V | tail -n 1)}
[ -n "$kdir" ] && [ -f "$kdir/Makefile" ] || skip "no kernel headers in /usr/src (Debian: linux-headers-amd64)"
abi=${kdir##*/linux-headers-}

mkdir -p "$dir"
# The module, kernel and initramfs are shared by every run: one at a time.
exec 9>"$dir/.lock"
flock 9

# ---- The kernel: the image of the headers' ABI, its /boot only ----------
kern=$dir/kernel/$abi
if [ ! -s "$kern/vmlinux" ]; then
	step kernel "fetching linux-image-$abi (its /boot only)"
	rm -rf "$kern.tmp" && mkdir -p "$kern.tmp"
	ver=$(dpkg-query -W -f='${Version}' "linux-headers-$abi" 2>/dev/null || true)
	got=
	for pkg in "linux-image-$abi-unsigned${ver:+=$ver}" "linux-image-$abi${ver:+=$ver}" \
		   "linux-image-$abi-unsigned" "linux-image-$abi"; do
		if (cd "$kern.tmp" && apt-get download -q "$pkg" >/dev/null 2>&1); then got=$pkg; break; fi
	done
	[ -n "$got" ] || skip "cannot download linux-image-$abi with apt-get (no network or no package lists?)"
	deb=$(ls "$kern.tmp"/*.deb)
	dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$kern.tmp" ./boot
	vmlinuz=$kern.tmp/boot/vmlinuz-$abi
	[ -s "$vmlinuz" ] || die "$got has no /boot/vmlinuz-$abi"
	# QEMU boots the uncompressed ELF through its PVH entry, seconds faster
	# than the bzImage: it is the xz stream inside vmlinuz.
	off=$(set +o pipefail; LC_ALL=C grep -obUaP '\xfd7zXZ\x00' "$vmlinuz" | head -n 1 | cut -d: -f1)
	[ -n "$off" ] || die "no xz stream in $vmlinuz"
	# (xz stops after the stream: tail's SIGPIPE is expected.)
	(set +o pipefail; tail -c +$((off + 1)) "$vmlinuz" | xz -dc --single-stream >"$kern.tmp/vmlinux")
	readelf -h "$kern.tmp/vmlinux" >/dev/null 2>&1 || die "no ELF kernel in the xz stream of $vmlinuz"
	cp "$kern.tmp/boot/config-$abi" "$kern.tmp/config" 2>/dev/null || true
	mv "$vmlinuz" "$kern.tmp/vmlinuz"
	rm -rf "$kern.tmp/boot" "$deb" "$kern"
	mv "$kern.tmp" "$kern"
fi

# ---- The module, built against the headers (out of the source tree) ------
mod=$dir/module
step module "building coop.ko against $abi"
mkdir -p "$mod"
cp -p "$src"/hypervisor-shim/backend/kmod/module/{Kbuild,*.c,*.h,*.S} "$mod/"
make -s -C "$kdir" M="$mod" COOP_INCLUDE="$src/hypervisor-shim/include" modules >"$dir/module.log" 2>&1 ||
	{ cat "$dir/module.log"; die "coop.ko does not build against $kdir"; }
grep -v '^Skipping BTF' "$dir/module.log" | grep -i -E 'warning|error' && die "coop.ko builds with warnings"

# ---- The initramfs --------------------------------------------------------
step initrd "packing busybox, coop.ko, coop, the guest and the tests"
# Everything of this run in a directory of its own: another run (another
# CPU model, another ctest) may be going on at the same time.
run=$(mktemp -d "$dir/run.XXXXXX")
[ "$keep" = 1 ] || trap 'rm -rf "$run"' EXIT
root=$run/root
mkdir -p "$root"/{bin,dev,proc,sys,tmp,coop,lib64}
cp "$busybox" "$root/bin/busybox"
cp "$here/init" "$root/init"
cp "$script" "$root/coop/tests.sh"
cp "$mod/coop.ko" "$COOP" "$COOP_GUEST" "$COOP_KMOD_IOCTL" "$root/coop/"
# coop is dynamic: its libraries where the dynamic linker looks for them.
for bin in "$COOP" "$COOP_KMOD_IOCTL"; do
	ldd "$bin" | grep -o '/[^ ]*' | while read -r lib; do
		mkdir -p "$root$(dirname "$lib")"
		cp -L "$lib" "$root$lib"
	done
done
chmod +x "$root/init"
(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) >"$run/initramfs.cpio"
rm -rf "$root"
flock -u 9

# ---- Boot -----------------------------------------------------------------
accel=tcg
case ${COOP_KMOD_ACCEL:-auto} in
kvm) accel=kvm ;;
tcg) ;;
auto) if [ -w /dev/kvm ] && grep -qw -E 'vmx|svm' /proc/cpuinfo; then accel=kvm; fi ;;
*) die "COOP_KMOD_ACCEL=${COOP_KMOD_ACCEL}: expected tcg, kvm or auto" ;;
esac
# The bzImage's decompressor is what turns on 5-level paging where the CPU
# has it (-cpu max); QEMU's PVH entry into the bare vmlinux skips it and
# stays at 4 levels, but boots seconds faster.
[ -n "$boot" ] || { [ "$cpu" = max ] && boot=bzimage || boot=pvh; }
case $boot in
bzimage) image=$kern/vmlinuz ;;
pvh) image=$kern/vmlinux ;;
*) die "--boot $boot: expected bzimage or pvh" ;;
esac
[ -s "$image" ] || { rm -rf "$kern"; die "$image is missing: run again to fetch the kernel"; }
# CPU models by name:
#  - qemu64: as it is, baseline x86-64 (no SSSE3, SSE4.x, POPCNT, RDTSCP):
#    the guest's CRC32C takes its table instead of SSE4.2's crc32 (chosen
#    at boot by cpuid), coop bench times with lfence; rdtsc instead of
#    rdtscp, and Debian's glibc, ISA-L (dispatches by cpuid), libunwind and
#    the static busybox need nothing above baseline;
#  - max-pti: max, but an Intel CPU that does not claim to be immune to
#    Meltdown, so that the host kernel runs with page-table isolation.
qcpu=$cpu
case $cpu in
max-pti) qcpu=max,vendor=GenuineIntel ;;
esac
log=$run/serial.log
step qemu "booting Debian $abi ($boot), -cpu $qcpu, $accel, $smp CPU(s); console: $dir/serial.$cpu.log"
start=$(date +%s%N)
set +e
timeout "$timeout" qemu-system-x86_64 -accel "$accel" -cpu "$qcpu" -smp "$smp" -m "$mem" \
	-nodefaults -no-user-config -display none -no-reboot \
	-kernel "$image" -initrd "$run/initramfs.cpio" \
	-append "console=ttyS0 panic=-1 quiet coop_cpu=$cpu coop_accel=$accel" \
	-serial "file:$log" </dev/null
qemu=$?
set -e
ms=$((($(date +%s%N) - start) / 1000000))
# The console of the latest run of each model stays for a look afterwards.
cp "$log" "$dir/serial.$cpu.log.tmp" && mv "$dir/serial.$cpu.log.tmp" "$dir/serial.$cpu.log"

# The guest's console: everything it printed, for whoever reads the output.
sed -e 's/\r$//' "$log"
echo "----"
[ "$qemu" -ne 124 ] || die "QEMU did not finish within $timeout s (-cpu $cpu)"
status=$(sed -n 's/^COOP_KMOD_STATUS=\([0-9][0-9]*\)\r\{0,1\}$/\1/p' "$log" | tail -n 1)
[ -n "$status" ] || die "no COOP_KMOD_STATUS marker on the serial console (a panic or hang?) - QEMU exit $qemu"
printf 'QEMU -cpu %s (%s): in-guest status %s after %d.%d s\n' "$cpu" "$accel" "$status" \
	$((ms / 1000)) $((ms % 1000 / 100))
if [ "$accel" = tcg ]; then
	echo "note: timings above are TCG (emulated) figures, not hardware ones. For hardware figures:"
	echo "      run this on a machine whose CPU has vmx or svm with a usable /dev/kvm (KVM is then"
	echo "      chosen), or build the module there (make -C hypervisor-shim/backend/kmod/module),"
	echo "      insmod coop.ko as root and run coop bench --backend kmod on the host itself."
fi
exit "$status"
