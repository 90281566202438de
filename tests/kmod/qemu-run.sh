#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# qemu-run.sh - test the kmod backend in QEMU: build coop.ko against Debian's
# kernel headers, fetch the kernel image of the same ABI, pack an initramfs
# (static busybox, the module, coop and the guest, the tests) and boot it;
# the in-guest test status comes back as a marker on the serial console.
#
#   tests/kmod/qemu-run.sh [--cpu max|max-pti|qemu64|MODEL] [--smp N] [--keep]
#                          [--boot bzimage|pvh] [--script FILE] [--timeout SECONDS]
#                          [--repeat N] [--boots N] [--hogs N] [--linux] [--debug]
#
#   --cpu      the QEMU CPU model (max-pti: max as an Intel CPU, so that the
#              kernel isolates page tables); default max
#   --smp      CPUs of the VM (default 1; ctest uses 2)
#   --boot     bzimage (what turns 5-level paging on; default for max) or
#              pvh (the bare vmlinux, seconds faster; default otherwise)
#   --script   the in-guest test script (default tests/kmod/tests.sh)
#   --keep     keep the run's directory (initramfs, console) in COOP_KMOD_DIR
#   --timeout  seconds one boot may take (default 120 + 120 per round); then
#              the harness shows every CPU's registers (QEMU's monitor) and
#              backtrace (sysrq l through the serial console), ends QEMU and
#              fails
#   --repeat   stress: rounds of the in-guest tests in each boot (default 1;
#              or COOP_KMOD_REPEAT)
#   --boots    stress: boots, one after another, until one fails (default 1;
#              or COOP_KMOD_BOOTS)
#   --hogs     stress: busy loops on the host beside QEMU (default 0; or
#              COOP_KMOD_HOGS)
#   --linux    the Linux guest (docs/kmod.md, "Linux guests"): the VM gets 1 GiB and
#              memmap=256M$0x20000000 on its command line, the module
#              phys_ram=256M@0x20000000, the initramfs /vmlinux (the guest
#              kernel, COOP_LINUX_VMLINUX or build/linux/vmlinux, stripped)
#              and /initramfs.cpio.gz (COOP_LINUX_INITRD or
#              build/linux/initramfs.cpio.gz, if there);
#              the script is tests/kmod/linux.sh.  Skipped (77) without it
#   --debug    QEMU logs interrupts and CPU resets to qemu.log in the run's
#              directory (kept): a guest triple fault shows its state there
#
# ctest runs it (label kmod) with COOP, COOP_GUEST, COOP_KMOD_IOCTL and
# COOP_KMOD_DIR set; by hand, from the repository, the defaults find
# build/.  Exit: the in-guest status (0 passed, 1 failed), 1 when no
# status came back (a panic, a hang, QEMU failing), 77 when a requirement
# cannot be met here (no QEMU, no headers, no way to fetch the kernel).
# COOP_KMOD_APPEND adds words to the VM kernel's command line;
# COOP_KMOD_TCG_THREAD=multi gives each vCPU a host thread (see below why
# the default is single).
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

cpu=max smp=1 mem=1G keep=0 timeout= boot= linux=0 debug=0
repeat=${COOP_KMOD_REPEAT:-1} boots=${COOP_KMOD_BOOTS:-1} hogs=${COOP_KMOD_HOGS:-0}
script=$here/tests.sh
while [ $# -gt 0 ]; do
	case $1 in
	--cpu) cpu=$2; shift 2 ;;
	--smp) smp=$2; shift 2 ;;
	--script) script=$(realpath "$2"); shift 2 ;;
	--timeout) timeout=$2; shift 2 ;;
	--boot) boot=$2; shift 2 ;;
	--repeat) repeat=$2; shift 2 ;;
	--boots) boots=$2; shift 2 ;;
	--hogs) hogs=$2; shift 2 ;;
	--keep) keep=1; shift ;;
	--linux) linux=1; shift ;;
	--debug) debug=1 keep=1; shift ;;
	-h|--help) sed -n '3,44p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "qemu-run.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
	esac
done
for n in smp repeat boots hogs timeout; do
	v=${!n}
	[ -z "$v" ] && [ "$n" = timeout ] && continue
	[[ "$v" =~ ^[0-9]+$ ]] && [ "$v" -le 100000 ] ||
		{ echo "qemu-run.sh: --$n $v: expected a whole number" >&2; exit 2; }
done
[ "$smp" -ge 1 ] && [ "$repeat" -ge 1 ] && [ "$boots" -ge 1 ] ||
	{ echo "qemu-run.sh: --smp, --repeat and --boots must be at least 1" >&2; exit 2; }
timeout=${timeout:-$((120 + 120 * repeat))}
# Guests that own their state (the Linux guest, and coop-kmod-ioctl's):
# their RAM is host memory the VM's kernel sets aside at boot (memmap=, a
# reserved e820 range) and the module claims (phys_ram=), in every boot.
linux_ram=256M linux_at=0x20000000
COOP_LINUX_VMLINUX=${COOP_LINUX_VMLINUX:-$build/linux/vmlinux}
COOP_LINUX_INITRD=${COOP_LINUX_INITRD:-$build/linux/initramfs.cpio.gz}
if [ "$linux" = 1 ]; then
	[ "$script" != "$here/tests.sh" ] || script=$here/linux.sh
fi

skip() { echo "SKIP: $*"; exit 77; }
die() { echo "FAIL: $*"; exit 1; }
step() { printf '%-9s %s\n' "[$1]" "$2"; }

# ---- What this needs ------------------------------------------------------
[ "$(uname -m)" = x86_64 ] || skip "the kmod backend is x86-64 only"
for tool in qemu-system-x86_64 cpio xz make gcc socat objdump; do
	command -v "$tool" >/dev/null || skip "$tool is missing (scripts/install-deps installs it)"
done
busybox=/bin/busybox
[ -x "$busybox" ] && ! readelf -l "$busybox" 2>/dev/null | grep -q INTERP ||
	skip "$busybox is not a static busybox (Debian: busybox-static)"
for f in "$COOP" "$COOP_GUEST" "$COOP_KMOD_IOCTL"; do
	[ -e "$f" ] || die "$f is missing: build first (cmake --build build)"
done
if [ "$linux" = 1 ]; then
	[ -s "$COOP_LINUX_VMLINUX" ] ||
		skip "no Linux guest at $COOP_LINUX_VMLINUX (guest/linux/build.sh builds it; or set COOP_LINUX_VMLINUX)"
	command -v objcopy >/dev/null || skip "objcopy is missing (binutils)"
fi
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
step module "building coop.ko against $abi, with its debug checks (COOP_DEBUG=1)"
mkdir -p "$mod"
cp -p "$src"/hypervisor-shim/backend/kmod/module/{Kbuild,*.c,*.h,*.S} "$mod/"
make -s -C "$kdir" M="$mod" COOP_INCLUDE="$src/hypervisor-shim/include" COOP_DEBUG=1 modules >"$dir/module.log" 2>&1 ||
	{ cat "$dir/module.log"; die "coop.ko does not build against $kdir"; }
grep -v '^Skipping BTF' "$dir/module.log" | grep -i -E 'warning|error' && die "coop.ko builds with warnings"

# ---- The initramfs --------------------------------------------------------
step initrd "packing busybox, coop.ko, coop, the guest and the tests"
# Everything of this run in a directory of its own: another run (another
# CPU model, another ctest) may be going on at the same time.
run=$(mktemp -d "$dir/run.XXXXXX")
hog_pids=
cleanup() {
	# shellcheck disable=SC2086
	[ -z "$hog_pids" ] || kill $hog_pids 2>/dev/null || true
	[ -z "${qpid:-}" ] || kill -9 "$qpid" 2>/dev/null || true
	[ "$keep" = 1 ] || rm -rf "$run"
}
trap cleanup EXIT
root=$run/root
mkdir -p "$root"/{bin,dev,proc,sys,tmp,coop,lib64}
cp "$busybox" "$root/bin/busybox"
cp "$here/init" "$root/init"
cp "$script" "$root/coop/tests.sh"
cp "$here/lib.sh" "$root/coop/lib.sh"
if [ "$linux" = 1 ]; then
	# Stripped (~9 MB instead of ~50 with symbols): coop needs no symbols to
	# boot it; a crash report's RIP goes to addr2line on the original.
	objcopy -S "$COOP_LINUX_VMLINUX" "$root/vmlinux" ||
		die "objcopy -S $COOP_LINUX_VMLINUX failed"
	# Its initramfs, where built (guest/linux/initramfs): /initramfs.cpio.gz;
	# and /initramfs-tests.cpio.gz, the same with the tests' own programs
	# appended as a second archive (the kernel unpacks both).
	if [ -s "$COOP_LINUX_INITRD" ]; then
		cp "$COOP_LINUX_INITRD" "$root/initramfs.cpio.gz"
		mkdir -p "$run/extra/bin"
		gcc -nostdlib -static -no-pie -o "$run/extra/bin/compat32" "$here/compat32.S" ||
			die "tests/kmod/compat32.S does not build"
		cp "$run/extra/bin/compat32" "$root/coop/"
		(cd "$run/extra" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) |
			gzip -9n | cat "$COOP_LINUX_INITRD" - >"$root/initramfs-tests.cpio.gz"
	fi
	# A root file system for cobd0: /rootfs.img, 16 MiB of ext4 holding
	# static busybox and the initramfs's /init (e2fsprogs, as Debian has).
	if command -v mke2fs >/dev/null; then
		mkdir -p "$run/rootfs/bin" "$run/rootfs/dev" "$run/rootfs/proc" "$run/rootfs/sys" \
			 "$run/rootfs/tmp"
		cp "$busybox" "$run/rootfs/bin/busybox"
		install -m 0755 "$src/guest/linux/initramfs/init" "$run/rootfs/init"
		mke2fs -q -F -t ext4 -d "$run/rootfs" "$root/rootfs.img" 16M ||
			die "mke2fs cannot make /rootfs.img"
	fi
fi
cp "$mod/coop.ko" "$COOP" "$COOP_GUEST" "$COOP_KMOD_IOCTL" "$root/coop/"
# coop run --trace in the VM: coop's probes beside it, LTTng's session and
# consumer daemons, and babeltrace2 with its plugins to read the trace
# back, each where the host has it (scripts/install-deps installs them).
tracing=
for f in "$(dirname "$COOP")/libcoop-trace.so" /usr/bin/lttng-sessiond /usr/sbin/debugfs /usr/sbin/e2fsck \
	 /usr/lib/x86_64-linux-gnu/lttng/libexec/lttng-consumerd /usr/share/xml/lttng/session.xsd \
	 /usr/bin/babeltrace2 \
	 /usr/lib/x86_64-linux-gnu/babeltrace2/plugins/*.so; do
	[ -e "$f" ] || continue
	case $f in
	*/libcoop-trace.so) cp "$f" "$root/coop/" ;;
	*) mkdir -p "$root$(dirname "$f")" && cp -L "$f" "$root$f" ;;
	esac
	case $f in *.xsd) ;; *) tracing="$tracing $f" ;; esac # (programs: their libraries too)
done
# The module's symbols, by section, to name a hung CPU's instruction pointer.
objdump -t "$mod/coop.ko" | awk 'NF >= 4 && $(NF - 2) ~ /^\./ && $NF !~ /^\./ { print $(NF - 2), $1, $NF }' >"$run/coop.syms"
# coop is dynamic: its libraries where the dynamic linker looks for them.
# shellcheck disable=SC2086
for bin in "$COOP" "$COOP_KMOD_IOCTL" $tracing; do
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
# TCG runs every vCPU in one host thread (thread=single), not one thread
# each: QEMU 7.2's multi-threaded TCG (-cpu max) can go on executing a
# stale translation of kernel text another vCPU has patched (an int3 of
# text_poke_bp that is long gone from memory: the CPU loops in the int3
# handler forever, and every IPI to it waits).  textpoke.sh reproduces
# it without coop: COOP_KMOD_TCG_THREAD=multi qemu-run.sh --smp 2
# --script tests/kmod/textpoke.sh.
qaccel=$accel
if [ "$accel" = tcg ]; then
	tcg_thread=${COOP_KMOD_TCG_THREAD:-single}
	case $tcg_thread in
	single|multi) qaccel=tcg,thread=$tcg_thread ;;
	*) die "COOP_KMOD_TCG_THREAD=$tcg_thread: expected single or multi" ;;
	esac
fi
[ -n "$boot" ] || { [ "$cpu" = max ] && boot=bzimage || boot=pvh; }
case $boot in
bzimage) image=$kern/vmlinuz ;;
pvh) image=$kern/vmlinux ;;
*) die "--boot $boot: expected bzimage or pvh" ;;
esac
[ -s "$image" ] || { rm -rf "$kern"; die "$image is missing: run again to fetch the kernel"; }
# CPU models by name:
#  - qemu64: as it is, baseline x86-64 (no SSSE3, SSE4.x, POPCNT, RDTSCP):
#    the guest's CRC32C runs its table instead of SSE4.2's crc32 (chosen
#    at boot by cpuid), coop bench times with lfence; rdtsc instead of
#    rdtscp, and Debian's glibc, ISA-L (dispatches by cpuid), libunwind and
#    the static busybox need nothing above baseline;
#  - max-pti: max, but an Intel CPU that does not claim to be immune to
#    Meltdown, so that the host kernel runs with page-table isolation.
qcpu=$cpu
case $cpu in
max-pti) qcpu=max,vendor=GenuineIntel ;;
esac

# hmp COMMAND: one command to QEMU's human monitor, its answer on stdout
# (without the echo of what was typed and the prompts).
hmp() {
	printf '%s\n' "$1" | socat -t 3 - "UNIX-CONNECT:$run/monitor.sock" 2>/dev/null |
		tr -d '\r' | sed -e 's/\x1b\[[0-9;]*[A-Za-z]//g' -e '/^(qemu)/d' -e '/^QEMU .* monitor/d'
}

# symbol ADDRESS LOG: coop.ko's function at a hex address (from its
# sections' addresses, which tests.sh prints after insmod), else what kind
# of address it is.  (Debian ships no System.map; the kernel names its own
# functions in the sysrq backtraces.)
symbol() {
	awk -v a="$1" -v syms="$run/coop.syms" '
	# The low 40 bits, which a double holds exactly: kernel and module
	# text share the upper ones (0xffffff...).
	function hex(s,   i, c, v) {
		s = tolower(s); sub(/^0x/, "", s); v = 0
		if (length(s) != 16 || substr(s, 1, 6) != "ffffff") return -1
		s = substr(s, 7)
		for (i = 1; i <= length(s); i++) { c = index("0123456789abcdef", substr(s, i, 1)); v = v * 16 + c - 1 }
		return v
	}
	BEGIN { x = hex(a) }
	# "coop.ko sections: .text=0x... .coop.switcher=0x..." from tests.sh
	FILENAME != syms && /coop.ko sections:/ {
		for (i = 1; i <= NF; i++) if (split($i, kv, "=") == 2) base[kv[1]] = hex(kv[2])
		next
	}
	FILENAME == syms && ($1 in base) && x >= 0 {
		v = base[$1] + hex("ffffff" substr("0000000000" $2, length($2) + 1))
		if (v <= x && v > best) { best = v; name = $3 }
	}
	END {
		if (x < 0) print "not kernel text: the coop guest?"
		else if (name != "" && x - best < 65536) printf "%s+0x%x [coop]\n", name, x - best
		else print "host kernel"
	}
	' "$2" "$run/coop.syms" 2>/dev/null
}

# diagnose LOG: QEMU hangs.  Every CPU's registers from the monitor (works
# whatever the CPU does), then sysrq l through the serial console (a break,
# then 'l': an NMI backtrace from every CPU that still takes NMIs), then
# QEMU ends.  The console's last lines follow.
diagnose() {
	local - log=$1 n c rip rfl hlt cr3 s key
	set +e +o pipefail # best effort: say as much as can be said
	echo "---- QEMU did not finish within $timeout s: every CPU, from QEMU's monitor"
	hmp 'info registers -a' >"$run/registers.txt"
	awk '
	/^CPU#/ { cpu = $1 }
	/^RIP=/ { rip = substr($1, 5); rfl = substr($2, 5); hlt = $NF }
	/^CR0=/ { print cpu, rip, rfl, hlt, substr($3, 5) }
	' "$run/registers.txt" | while read -r c rip rfl hlt cr3; do
		s=$(symbol "$rip" "$log")
		echo "     $c rip=$rip ${s:+<$s> }rflags=$rfl (IF=$(((0x$rfl >> 9) & 1))) $hlt cr3=$cr3"
	done
	[ -s "$run/registers.txt" ] || echo "     (the monitor did not answer)"
	echo "---- sysrq l through the serial console: a backtrace of every CPU that takes NMIs"
	n=$(wc -l <"$log")
	# sysrq 9 first: the console prints every level from then on.
	for key in 9 l; do
		hmp 'chardev-send-break ser0' >/dev/null
		printf %s "$key" >"$run/serial.in"
		sleep 0.5
	done
	# The kernel waits up to 10 s for every CPU's answer.
	sleep 12
	tail -n +$((n + 1)) "$log" | sed -e 's/\r$//' -e 's/^/     /' | head -n 300
	hmp quit >/dev/null
}

# serve_requests: what the tests inside ask of QEMU's monitor, a line
# "COOP_KMOD_HMP: COMMAND" on the console, perhaps after a kernel log
# timestamp (e.g. a machine check to inject: nothing inside can make one).
# Each distinct command is served once, in order: a log dump that shows
# the line again does not repeat it.
serve_requests() {
	local cmd
	grep -a -o 'COOP_KMOD_HMP: .*' "$log" 2>/dev/null | sed -e 's/^COOP_KMOD_HMP: //' -e 's/\r$//' |
		while IFS= read -r cmd; do
			grep -qxF -- "$cmd" "$run/requests.log" 2>/dev/null && continue
			printf '%s\n' "$cmd" >>"$run/requests.log"
			echo "[harness] QEMU monitor: $cmd" >>"$run/requests.out"
			hmp "$cmd" >>"$run/requests.out"
		done || true # no request yet: grep found nothing
}

# boot_once N: one boot of the VM; sets status and ms.
boot_once() {
	local b=$1 log=$run/serial.$1.log deadline
	rm -f "$run/serial.in" "$run/serial.out" "$run/monitor.sock"
	mkfifo -m 600 "$run/serial.in" "$run/serial.out"
	# The console: QEMU writes into a pipe, cat into the log (a file
	# chardev could not take the break and the 'l' of a sysrq).
	cat "$run/serial.out" >"$log" &
	local cat_pid=$!
	start=$(date +%s%N)
	qemu-system-x86_64 -accel "$qaccel" -cpu "$qcpu" -smp "$smp" -m "$mem" \
		-nodefaults -no-user-config -display none -no-reboot \
		-kernel "$image" -initrd "$run/initramfs.cpio" \
		-append "$append" "${qdebug[@]}" \
		-chardev "pipe,id=ser0,path=$run/serial" -serial chardev:ser0 \
		-monitor "unix:$run/monitor.sock,server=on,wait=off" </dev/null &
	qpid=$!
	deadline=$(($(date +%s) + timeout))
	hung=0
	rm -f "$run/requests.log"
	while kill -0 "$qpid" 2>/dev/null; do
		if [ "$(date +%s)" -ge "$deadline" ]; then
			hung=1
			break
		fi
		serve_requests
		sleep 0.2
	done
	[ "$hung" = 0 ] || diagnose "$log" >"$run/diagnosis.txt" 2>&1
	# quit ends QEMU at once; it is forced if the monitor did not answer.
	for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$qpid" 2>/dev/null || break; sleep 0.5; done
	kill -9 "$qpid" 2>/dev/null || true
	qemu=0
	wait "$qpid" || qemu=$?
	qpid=
	wait "$cat_pid" 2>/dev/null || true
	ms=$((($(date +%s%N) - start) / 1000000))
	# The console of the latest boot of each model stays for a look afterwards.
	cp "$log" "$dir/serial.$cpu.log.tmp" && mv "$dir/serial.$cpu.log.tmp" "$dir/serial.$cpu.log"

	# The guest's console: everything it printed (the end of it, when
	# stressing), for whoever reads the output.
	if [ "$repeat" -eq 1 ]; then
		sed -e 's/\r$//' "$log"
	else
		echo "(the last 150 lines of the console; all of it: $dir/serial.$cpu.log)"
		tail -n 150 "$log" | sed -e 's/\r$//'
	fi
	echo "----"
	status=
	if [ "$hung" = 1 ]; then
		cat "$run/diagnosis.txt"
		echo "FAIL: QEMU did not finish within $timeout s (-cpu $cpu, boot $b of $boots)"
		status=1
		return
	fi
	status=$(sed -n 's/^COOP_KMOD_STATUS=\([0-9][0-9]*\)\r\{0,1\}$/\1/p' "$log" | tail -n 1)
	if [ -z "$status" ]; then
		echo "FAIL: no COOP_KMOD_STATUS marker on the serial console (a panic or hang?) - QEMU exit $qemu"
		status=1
	fi
}

if [ "$hogs" -gt 0 ]; then
	for _ in $(seq "$hogs"); do
		sh -c 'while :; do :; done' &
		hog_pids="$hog_pids $!"
	done
	step hogs "$hogs busy loop(s) on the host beside QEMU"
fi
rounds="$repeat round(s) of the tests per boot"
[ "$boots" -eq 1 ] && [ "$repeat" -eq 1 ] && rounds="the tests"
# --linux: the region in the VM's e820 ('$' is literal here: no shell
# reads QEMU's -append) and where the in-guest script finds its size.
append="console=ttyS0 panic=-1 quiet nokaslr sysrq_always_enabled softlockup_all_cpu_backtrace=1 coop_cpu=$cpu coop_accel=$accel coop_repeat=$repeat"
append="$append memmap=$linux_ram\$$linux_at coop_phys_ram=$linux_ram@$linux_at"
if [ "$linux" = 1 ]; then
	rounds="$rounds ($(basename "$script") with the Linux guest, ${mem}B, memmap=$linux_ram\$$linux_at)"
fi
append="$append${COOP_KMOD_APPEND:+ $COOP_KMOD_APPEND}"
qdebug=()
[ "$debug" = 0 ] || qdebug=(-d int,cpu_reset -D "$run/qemu.log")
step qemu "booting Debian $abi ($boot), -cpu $qcpu, $qaccel, $smp CPU(s), $rounds; console: $dir/serial.$cpu.log"
total=0
for b in $(seq "$boots"); do
	boot_once "$b"
	total=$((total + ms))
	printf 'QEMU -cpu %s (%s): boot %d of %d, in-guest status %s after %d.%d s\n' "$cpu" "$accel" \
		"$b" "$boots" "$status" $((ms / 1000)) $((ms % 1000 / 100))
	[ "$status" -eq 0 ] || break
done
if [ "$boots" -gt 1 ] || [ "$repeat" -gt 1 ]; then
	printf 'stress: %d of %d boot(s) of %d round(s) passed, %d hog(s), %d s in all\n' \
		$((status == 0 ? b : b - 1)) "$boots" "$repeat" "$hogs" $((total / 1000))
fi
if [ "$accel" = tcg ]; then
	echo "note: timings above are TCG (emulated) figures, not hardware ones. For hardware figures:"
	echo "      run this on a machine whose CPU has vmx or svm with a usable /dev/kvm (KVM is then"
	echo "      chosen), or build the module there (make -C hypervisor-shim/backend/kmod/module),"
	echo "      insmod coop.ko as root and run coop bench --backend kmod on the host itself."
fi
exit "$status"
