#!/bin/sh
# SPDX-License-Identifier: MIT
# linux.sh - the Linux guest on the kmod backend, phases 1 and 2 (docs/kmod.md),
# run inside QEMU by `tests/kmod/qemu-run.sh --linux`, which boots the host
# with memmap=256M$0x20000000 (coop_phys_ram= says which) and packs
# /vmlinux (guest/linux, stripped), coop.ko, coop and lib.sh into /coop.
# Phase 1 (coop_stop=setup_arch): the guest must print its banner, its
# e820 and the switcher line on the cocon log, then panic with "coop
# phase 1 stop" (exit status 3).  Phase 2 (coop_stop=init): the kernel
# boots with its timer ticking and stops with "coop phase 2 stop" right
# before /init.  With /initramfs.cpio.gz (guest/linux/initramfs): the
# kernel unpacks it (--initrd), then its shell on hvc0 runs commands piped
# into coop and powers off (exit status 0).  The host must stay clean and
# keep its timer.  Exits 0 when all passed.
cd /coop || exit 1
. /coop/lib.sh

phys=${coop_phys_ram:-256M@0x20000000}
size=${phys%@*}
start=$((${phys#*@}))
case $size in
*G) bytes=$((${size%G} << 30)) ;;
*M) bytes=$((${size%M} << 20)) ;;
*) bytes=$((size)) ;;
esac
echo "== host: $(uname -r), -cpu $coop_cpu ($coop_accel), $levels-level paging; guest RAM $size at $(printf %#x "$start")"
check "the host set the region aside (memmap= on its command line)" grep -q 'memmap=' /proc/cmdline
check "/vmlinux is an x86-64 ELF" sh -c "head -c 4 /vmlinux | grep -q ELF"

echo "== the module, with physical memory for Linux guests"
e820_user=$(printf 'user: [mem 0x%016x-0x%016x] reserved' "$start" $((start + bytes - 1)))
check "the host reserved it: '$e820_user'" sh -c "dmesg | grep -q -F '$e820_user'"
check "insmod coop.ko phys_ram=$phys" insmod coop.ko phys_ram="$phys"
# A module without the parameter loads all the same, and says so.
check "the module took phys_ram= (no 'unknown parameter' in dmesg)" \
	sh -c "! dmesg | grep -F \"coop: unknown parameter 'phys_ram' ignored\""
check "/dev/coop is a character device" test -c /dev/coop

cpus=$(nproc)
locs() { c=0; while [ $c -lt "$cpus" ]; do printf '%s ' "$(loc $c)"; c=$((c + 1)); done; }
# says TEXT: the guest's log (coop's stderr) has TEXT; it is shown once, below, if not.
says() { grep -q -F -- "$1" /tmp/err; }
# host_clean: no oops in the host's log, and every host CPU took timer
# interrupts between $loc_before and $loc_after.
host_clean() {
	check "the host kernel logged no oops, warning, stall or lockup" no_oops
	set -- $loc_after
	for a in $loc_before; do
		check "host CPU $((cpus - $#)) took timer interrupts across the run (LOC $a -> $1)" \
			test "$1" -gt "$a"
		shift
	done
}

echo "== phase 1: coop run --backend kmod --kernel /vmlinux --cmdline coop_stop=setup_arch"
loc_before=$(locs)
kmod_run 3 --kernel /vmlinux --cmdline coop_stop=setup_arch
loc_after=$(locs)
check "the guest's banner" says 'Linux version 6.1.'
check "... of coop's build (LOCALVERSION -coop)" says '-coop'
e820=$(printf '[mem 0x%016x-0x%016x] usable' "$start" $((start + bytes - 1)))
check "its e820 is exactly the region: $e820" says "$e820"
la57=0
[ "$levels" = 5 ] && la57=1
check "the switcher window is installed" says 'coop: switcher window 0x'
check "... with LA57=$la57 ($levels-level paging)" says "installed, LA57=$la57"
check "the guest panicked where phase 1 stops" says 'coop phase 1 stop'
# The guest's boot log, always: what the platform did is read here.
show "coop's stderr (the guest's log)" /tmp/err
host_clean

# Phase 2: the whole kernel boots, with the host's interrupts forwarded,
# the vIRQs dispatched, the coop-timer ticking and idle as IDLE, and
# stops right before it would run /init.
echo "== phase 2: coop run --backend kmod --kernel /vmlinux --cmdline coop_stop=init"
loc_before=$(locs)
kmod_run 3 --kernel /vmlinux --cmdline coop_stop=init
loc_after=$(locs)
check "the clockevent is coop-timer" says 'coop: clockevent coop-timer'
check "the TSC is the clocksource" says 'clocksource: Switched to clocksource tsc'
check "the kernel ran its initcalls to the end, and slept" says 'coop: msleep(100): jiffies'
line=$(grep -o 'msleep(100): jiffies [0-9]* -> [0-9]* (HZ=[0-9]*), [0-9]* us by the TSC; [0-9]* IDLE, [0-9]* vIRQs' /tmp/err | head -1)
# 100 (msleep), jiffies before and after, HZ, microseconds by the TSC, IDLEs, vIRQs
set -- $(echo "${line:-0 0 0 0 0 0 0}" | tr -c '0-9\n' ' ')
check "the timer ticked while the kernel slept: jiffies $2 -> $3" test "$3" -gt "$2"
check "... about as many ticks as the TSC says ($(($3 - $2)) in $5 us at HZ=$4, at least 80 %)" \
	test $((($3 - $2) * 1000000)) -ge $(($5 * $4 * 8 / 10)) -a "$5" -gt 0
check "the kernel idled through the IDLE operation ($6 times) and took vIRQs ($7)" \
	test "$6" -gt 0 -a "$7" -gt 0
check "the guest panicked where phase 2 stops" says 'coop phase 2 stop'
check "... with its backtrace first" says 'Call Trace:'
# The kernel log is the coop console's (stderr), never hvc0's (stdout),
# although coop's default command line says console=hvc0.
check "the kernel log stays off coop's stdout (hvc0)" sh -c "! grep -q 'Linux version' /tmp/out"
show "coop's stderr (the guest's log)" /tmp/err
host_clean
# The initramfs (guest/linux/initramfs), where qemu-run.sh packed it: the
# kernel finds it where the monitor put it (--initrd) and unpacks it.
if [ -s /initramfs.cpio.gz ]; then
	echo "== coop run --backend kmod --kernel /vmlinux --initrd /initramfs.cpio.gz --cmdline coop_stop=init"
	loc_before=$(locs)
	kmod_run 3 --kernel /vmlinux --initrd /initramfs.cpio.gz --cmdline coop_stop=init
	loc_after=$(locs)
	check "the kernel unpacked the initramfs ('Freeing initrd memory')" says 'Freeing initrd memory'
	check "... without complaint" sh -c "! grep -E 'Initramfs unpacking failed|rootfs image is not initramfs' /tmp/err"
	check "the guest panicked where phase 2 stops" says 'coop phase 2 stop'
	grep -E 'initrd|initramfs|RAMDISK' /tmp/err
	host_clean

	# User mode: the initramfs's shell on hvc0 reads coop's stdin, writes
	# its stdout; poweroff -f ends the run with status 0.
	echo "== the shell on hvc0: commands piped into coop run --backend kmod --kernel /vmlinux --initrd /initramfs.cpio.gz"
	# On CPU 1, with a busy second in the guest: the host's timer ticks
	# there must go on (forwarded) while the guest computes.
	# The module's kernel events (ftrace) and coop's run report count it.
	loc_before=$(locs)
	tr=/sys/kernel/tracing
	[ ! -d $tr/events/coop ] || { echo >$tr/trace; echo 1 >$tr/events/coop/enable; }
	# A user program's SYSCALL and SYSENTER from 32-bit code stay in the
	# guest (tests/kmod/compat32.S, in /initramfs-tests.cpio.gz).
	host_now=$(date +%s)
	printf 'uname -r\necho "wallclock $(date +%%s)"\ncat /proc/interrupts\ngrep -E "^Clock Event Device|event_handler" /proc/timer_list\ntime sleep 1\ntimeout 1 sh -c "while :; do :; done"\nsh -c "kill -SEGV \\$\\$"; echo "after: $?"\n/bin/compat32 syscall; echo "syscall32: $?"\n/bin/compat32 sysenter; echo "sysenter32: $?"\necho done\npoweroff -f\n' |
		timeout 120 taskset -c 1 ./coop run --backend kmod --kernel /vmlinux \
			--initrd /initramfs-tests.cpio.gz --report /tmp/report.json >/tmp/out 2>/tmp/err
	st=$?
	loc_after=$(locs)
	[ ! -d $tr/events/coop ] || echo 0 >$tr/events/coop/enable
	check "coop exits 0 (poweroff -f), got $st" test "$st" -eq 0
	check "uname -r says 6.1.*-coop" grep -q '^6\.1\.[0-9]*-coop' /tmp/out
	guest_now=$(sed -n 's/^wallclock \([0-9]*\).*/\1/p' /tmp/out | head -n 1)
	check "the guest's wallclock is the host's (guest ${guest_now:-none}, host $host_now, within 60 s)" \
		test -n "$guest_now" -a "${guest_now:-0}" -ge $((host_now - 60)) -a "${guest_now:-0}" -le $((host_now + 60))
	timer=$(awk '/coop-timer/ { print $2; exit }' /tmp/out | tr -d '\r')
	cocon=$(awk '/coop-cocon/ { print $2; exit }' /tmp/out | tr -d '\r')
	check "/proc/interrupts counts coop-timer (${timer:-none})" test "${timer:-0}" -gt 0
	check "... and coop-cocon (${cocon:-none})" test "${cocon:-0}" -gt 0
	# One-shot, high resolution: the tick is an hrtimer of the guest's.
	check "the coop-timer runs one-shot, in high resolution mode (hrtimer_interrupt)" \
		sh -c "grep -A 20 '^Clock Event Device: coop-timer' /tmp/out | grep -q 'event_handler:  hrtimer_interrupt'"
	check "time sleep 1 takes 1 s of the guest's time, within 10 %" \
		grep -E -q 'real[[:space:]]+0m (0\.9|1\.0|1\.10)' /tmp/out
	if [ "$cpus" -ge 2 ]; then
		set -- $loc_before
		b1=$2
		set -- $loc_after
		check "host CPU 1 ticked on under the guest's busy second (LOC $b1 -> $2, at least 150)" \
			test $(($2 - b1)) -ge 150
	fi
	check "the shell got to the end of its input (done)" grep -q '^done' /tmp/out
	check "a user program killed by SIGSEGV is Linux's business: the shell goes on (139)" \
		grep -q 'after: 139' /tmp/out
	# (The program itself must run on this VM's own kernel: the baseline.)
	check "32-bit user code runs on the VM's own kernel (compat32 jump)" ./compat32 jump
	check "SYSCALL from 32-bit user code enters the guest's entry, -ENOSYS (exit 0)" \
		grep -q 'syscall32: 0' /tmp/out
	check "SYSENTER from 32-bit user code faults in the guest (SIGSEGV or, #UD, SIGILL)" \
		grep -E -q 'sysenter32: (139|132)' /tmp/out
	n=$(grep -c 'switch_out: .*reason=FORWARD ' $tr/trace 2>/dev/null)
	check "the module's events show its FORWARD operations ($n)" test "${n:-0}" -gt 0
	n=$(grep -c 'irq_forward: ' $tr/trace 2>/dev/null)
	check "... and the host interrupts replayed for it ($n)" test "${n:-0}" -gt 0
	check "the run report counts its switches, IDLEs and cocon messages" sh -c \
		"grep -q '\"total\": [1-9]' /tmp/report.json && grep -q '\"IDLE\": [1-9]' /tmp/report.json &&
		 grep -q '\"cocon\": {\"to_host\": {\"count\": [1-9]' /tmp/report.json"
	check "the kernel log is on stderr, not on stdout" \
		sh -c "grep -q 'Linux version' /tmp/err && ! grep -q 'Linux version' /tmp/out"
	show "coop's stdout (hvc0)" /tmp/out
	show "coop's stderr (the guest's log)" /tmp/err
	host_clean

	# --trace: an LTTng trace of this one run, whose events add up to the
	# run report's counters - the round trips the module served itself
	# (FORWARD operations, interrupts replayed) come from RUN's log.
	echo "== --trace: coop run --backend kmod --kernel /vmlinux --initrd ... --trace /tmp/t"
	loc_before=$(locs)
	rm -rf /tmp/t
	printf 'echo traced\nsleep 0.3\ncat /proc/interrupts >/dev/null\npoweroff -f\n' |
		timeout 300 ./coop run --backend kmod --kernel /vmlinux --initrd /initramfs.cpio.gz \
			--trace /tmp/t --report /tmp/report.json >/tmp/out 2>/tmp/err
	st=$?
	loc_after=$(locs)
	check "coop exits 0 (poweroff -f), got $st" test "$st" -eq 0
	check "... after the shell ran" grep -q '^traced' /tmp/out
	[ "$st" -eq 0 ] || show "coop's stderr" /tmp/err
	trace_adds_up
	n=$(events 'reason = ( "FORWARD" ') want=$(report '"FORWARD": ')
	check "... as many of them for FORWARD operations as the report says ($n, $want)" \
		test "$n" -gt 0 -a "$n" -eq "${want:--1}"
	n=$(events 'source = ( "HOST" ')
	check "... and the host interrupts replayed for them ($n)" test "$n" -gt 0
	to_host=$(sed -n 's/.*"cocon": {"to_host": {"count": \([0-9]*\).*/\1/p' /tmp/report.json)
	to_guest=$(sed -n 's/.*"cocon": {.*"to_guest": {"count": \([0-9]*\), "bytes": [0-9]*}, "errors.*"cobd".*/\1/p' /tmp/report.json)
	n=$(grep 'coop:message:' /tmp/t.txt | grep -c 'device = ( "cocon"')
	check "a coop:message per cocon message ($n, the report's $to_host + $to_guest)" \
		test "$n" -eq $((${to_host:--1} + ${to_guest:-0})) -a "$n" -gt 0
	grep -m 1 'reason = ( "FORWARD" ' /tmp/t.txt
	grep -m 1 'coop:irq_forward:' /tmp/t.txt
	host_clean

	# coop bench's Linux-guest figures (few samples; the figures are not
	# asserted, only that they are there, ordered and labelled).
	echo "== coop bench --backend kmod --linux /vmlinux ($coop_accel)"
	loc_before=$(locs)
	bench=linux_world_switch_rtt,linux_irq_forward
	timeout 300 ./coop bench --backend kmod --linux /vmlinux --iterations 200 --only $bench \
		--json /tmp/bench.json </dev/null >/tmp/out 2>/tmp/err
	st=$?
	loc_after=$(locs)
	check "coop bench --backend kmod --only $bench exits 0 ($st)" test "$st" -eq 0
	[ "$st" -eq 0 ] || show stderr /tmp/err
	sed -n -e '/^name /,/^(ns for/p' -e '/^skipped:/p' /tmp/out | sed 's/^/     /'
	label='"figures": "hardware"'
	[ "$coop_accel" != tcg ] || label='"figures": "TCG emulation, not hardware"'
	results >/tmp/results
	for name in world_switch_rtt linux_world_switch_rtt linux_irq_forward; do
		line=$(grep " $name " /tmp/results)
		check "bench JSON: $name positive, ordered, labelled (${line#* $name })" \
			test "${line%% *}" = ok
	done
	host_clean

	# Root on cobd: ext4 on a cobd disk (qemu-run.sh made /rootfs.img with
	# mke2fs), written by the guest, then read back by the host's e2fsprogs.
	echo "== root on cobd0: --disk cobd0=/tmp/root.img --cmdline 'root=/dev/cobd0 rw init=/init'"
	check "qemu-run.sh made /rootfs.img (mke2fs)" test -s /rootfs.img
	cp /rootfs.img /tmp/root.img
	loc_before=$(locs)
	printf 'grep " / " /proc/mounts\necho hello from cobd > /hello\ndd if=/dev/urandom of=/big bs=64k count=64 2>/dev/null\nmd5sum /big > /big.md5\nsync\necho 3 > /proc/sys/vm/drop_caches\nmd5sum -c /big.md5\nmount -o remount,ro /\npoweroff -f\n' |
		timeout 180 ./coop run --backend kmod --kernel /vmlinux --disk cobd0=/tmp/root.img \
			--cmdline 'root=/dev/cobd0 rw init=/init' --report /tmp/report.json >/tmp/out 2>/tmp/err
	st=$?
	loc_after=$(locs)
	check "coop exits 0 (poweroff -f), got $st" test "$st" -eq 0
	[ "$st" -eq 0 ] || show "coop's stderr" /tmp/err
	check "/ is ext4 on cobd0, read-write" grep -E -q '^/dev/root / ext4 rw' /tmp/out
	grep -E '^/dev/root ' /tmp/out | sed 's/^/     /'
	check "the guest reads its 4 MiB file back from the disk (md5sum -c, caches dropped)" \
		grep -q '^/big: OK' /tmp/out
	n=$(sed -n 's/.*"cobd": {"to_host": {"count": \([0-9]*\).*/\1/p' /tmp/report.json)
	check "the report counts its cobd requests ($n)" test "${n:-0}" -gt 100
	check "the host reads /hello from the image (debugfs)" \
		sh -c "debugfs -R 'cat /hello' /tmp/root.img 2>/dev/null | grep -q '^hello from cobd'"
	want=$(debugfs -R 'cat /big.md5' /tmp/root.img 2>/dev/null | cut -d' ' -f1)
	got=$(debugfs -R 'cat /big' /tmp/root.img 2>/dev/null | md5sum | cut -d' ' -f1)
	check "... and /big, as the guest wrote it (md5 ${got:-none})" test -n "$want" -a "$got" = "$want"
	check "e2fsck -fn finds the file system clean" sh -c 'e2fsck -fn /tmp/root.img >/tmp/fsck 2>&1'
	[ -s /tmp/fsck ] && sed 's/^/     /' /tmp/fsck | tail -3
	grep -E 'cobd0|EXT4-fs|VFS: Mounted' /tmp/err | head -5 | sed 's/^/     /'
	host_clean

	# The same disk under a fault plan that corrupts cobd replies: the
	# driver's checks (message and data CRC32C) catch every one and send
	# the request again; the file system never sees one.
	echo "== root on cobd0 under faults: corrupt 2 % of cobd replies"
	printf 'seed 7\ncorrupt device=cobd dir=to_guest type=reply prob=2%%\n' >/tmp/corrupt.plan
	loc_before=$(locs)
	printf 'md5sum -c /big.md5\ndd if=/dev/urandom of=/big2 bs=64k count=32 2>/dev/null\nmd5sum /big2 > /big2.md5\nsync\necho 3 > /proc/sys/vm/drop_caches\nmd5sum -c /big2.md5\nmount -o remount,ro /\npoweroff -f\n' |
		timeout 300 ./coop run --backend kmod --kernel /vmlinux --disk cobd0=/tmp/root.img \
			--cmdline 'cobd.timeout_ms=1000 init=/init' --faults /tmp/corrupt.plan \
			--report /tmp/report.json >/tmp/out 2>/tmp/err
	st=$?
	loc_after=$(locs)
	check "coop exits 0 (poweroff -f), got $st" test "$st" -eq 0
	[ "$st" -eq 0 ] || show "coop's stderr" /tmp/err
	check "the guest reads both files back intact (md5sum -c)" \
		sh -c "grep -q '^/big: OK' /tmp/out && grep -q '^/big2: OK' /tmp/out"
	inj=$(report '"corrupt": {"injected": ') det=$(report '"corrupt": {"injected": [0-9]*, "detected": ')
	harm=$(report '"corrupt": {.*"harmless": ') esc=$(report '"corrupt": {.*"escaped": ')
	check "faults were injected ($inj), each detected ($det) or harmless ($harm), none escaped ($esc)" \
		test "${inj:-0}" -gt 0 -a "${esc:--1}" -eq 0 -a $((${det:-0} + ${harm:-0})) -eq "${inj:-0}"
	check "e2fsck -fn finds the file system clean" sh -c 'e2fsck -fn /tmp/root.img >/tmp/fsck 2>&1'
	grep 'coop: faults:' /tmp/err | sed 's/^/     /'
	host_clean

	# A failing disk: from its third write on, every write to cobd1 (a
	# second ext4 disk) fails with EIO on the host.  ext4 must see the
	# errors, abort its journal and go read-only; the fault layer counts
	# every failed write as detected (the guest got an error).
	echo "== a failing disk: io eio unit=1 op=write window=3- on cobd1, mounted at /mnt"
	cp /rootfs.img /tmp/data.img
	printf 'seed 1\nio eio unit=1 op=write window=3-\n' >/tmp/eio.plan
	loc_before=$(locs)
	printf 'mkdir -p /mnt\nmount -t ext4 -o errors=remount-ro /dev/cobd1 /mnt\necho data > /mnt/f\nsync\necho more > /mnt/g; echo "write after: $?"\npoweroff -f\n' |
		timeout 120 ./coop run --backend kmod --kernel /vmlinux --disk cobd0=/tmp/root.img \
			--disk cobd1=/tmp/data.img --cmdline init=/init --faults /tmp/eio.plan \
			--report /tmp/report.json >/tmp/out 2>/tmp/err
	st=$?
	loc_after=$(locs)
	check "coop exits 0 (poweroff -f), got $st" test "$st" -eq 0
	[ "$st" -eq 0 ] || show "coop's stderr" /tmp/err
	check "the guest's block layer reports the write errors" grep -q 'I/O error, dev cobd1' /tmp/err
	check "ext4 goes read-only" grep -q 'EXT4-fs (cobd1): Remounting filesystem read-only' /tmp/err
	check "... and a write after it fails (Read-only file system)" \
		sh -c "grep -q 'Read-only file system' /tmp/out && grep -q 'write after: 1' /tmp/out"
	inj=$(report '"io_eio": {"injected": ') det=$(report '"io_eio": {"injected": [0-9]*, "detected": ')
	check "every injected EIO ($inj) was detected ($det)" test "${inj:-0}" -gt 0 -a "${det:--1}" -eq "${inj:-0}"
	grep -E 'JBD2|Remounting|coop: faults:' /tmp/err | head -4 | sed 's/^/     /'
	host_clean

	# conet: the Linux guest pings coop's small guest (user backend, its own
	# IP stack answers ARP and ICMP echo) across a UDP transport on this host.
	echo "== conet0: the Linux guest pings the small guest over udp:5001 <-> udp:5002"
	timeout 120 ./coop run --net conet0=udp:5002:127.0.0.1:5001 --cmdline ip=10.0.0.2/24 \
		--exec 'net info; sleep 100000' </dev/null >/tmp/peer.out 2>&1 &
	peer=$!
	# (up once it said its address: no ARP of ours may go unanswered)
	i=0
	while [ $i -lt 300 ] && ! grep -q 'inet 10.0.0.2' /tmp/peer.out; do
		sleep 0.1
		i=$((i + 1))
	done
	check "the small guest is up on conet0 (10.0.0.2)" grep -q 'inet 10.0.0.2' /tmp/peer.out
	loc_before=$(locs)
	printf 'ip addr add 10.0.0.1/24 dev conet0\nip link set conet0 up\nping -c 3 10.0.0.2\ncat /sys/class/net/conet0/statistics/rx_packets\npoweroff -f\n' |
		timeout 120 ./coop run --backend kmod --kernel /vmlinux --initrd /initramfs.cpio.gz \
			--net conet0=udp:5001:127.0.0.1:5002 --report /tmp/report.json >/tmp/out 2>/tmp/err
	st=$?
	loc_after=$(locs)
	kill "$peer" 2>/dev/null
	wait "$peer" 2>/dev/null
	check "coop exits 0 (poweroff -f), got $st" test "$st" -eq 0
	[ "$st" -eq 0 ] || show "coop's stderr" /tmp/err
	check "3 pings, 3 answers" grep -q '3 packets transmitted, 3 packets received' /tmp/out
	grep -E 'bytes from|packets transmitted|round-trip' /tmp/out | sed 's/^/     /'
	n=$(sed -n 's/.*"conet": {"to_host": {"count": \([0-9]*\).*/\1/p' /tmp/report.json)
	check "the report counts its frames out ($n)" test "${n:-0}" -ge 4
	grep -E 'conet0' /tmp/err | head -2 | sed 's/^/     /'
	host_clean

	# A kernel panic (sysrq c): coop ends with exit 3 and the panic's
	# message, the guest's backtrace before it; the host is unharmed.
	echo "== a guest kernel panic: echo c > /proc/sysrq-trigger"
	loc_before=$(locs)
	echo 'echo c > /proc/sysrq-trigger' |
		timeout 120 ./coop run --backend kmod --kernel /vmlinux --initrd /initramfs.cpio.gz \
			>/tmp/out 2>/tmp/err
	st=$?
	loc_after=$(locs)
	check "coop exits 3, got $st" test "$st" -eq 3
	check "... with the panic's message" grep -q 'coop: guest panic: sysrq triggered crash' /tmp/err
	check "... after the guest's backtrace" grep -q 'Call Trace:' /tmp/err
	host_clean

	# Idle is the host's too: while the guest sleeps, coop waits in the
	# IDLE operation (ppoll) instead of spinning, so its CPU time (the
	# guest runs inside coop's ioctl: system time) stays well below the
	# time it took.
	echo "== an idle guest leaves the host's CPU idle: sleep 5 in the guest"
	echo 'sleep 5; poweroff -f' | busybox time -p -o /tmp/time \
		timeout 120 ./coop run --backend kmod --kernel /vmlinux --initrd /initramfs.cpio.gz \
			>/tmp/out 2>/tmp/err
	st=$?
	real=$(awk '$1 == "real" { print int($2 * 100) }' /tmp/time)
	cpu=$(awk '$1 == "user" || $1 == "sys" { t += $2 } END { print int(t * 100) }' /tmp/time)
	check "coop exits 0, got $st" test "$st" -eq 0
	check "coop used ${cpu:-?}0 ms of CPU in ${real:-?}0 ms: at least 4 s less (it idled)" \
		test "${real:-0}" -ge 500 -a $((${real:-0} - ${cpu:-0})) -ge 400

	# The end of coop's stdin is the end of the shell's input (^D on the
	# tty): the shell exits, /init powers off, status 0.
	echo "== end of input: the shell exits"
	echo 'echo before-eof' | timeout 120 ./coop run --backend kmod --kernel /vmlinux \
		--initrd /initramfs.cpio.gz >/tmp/out 2>/tmp/err
	st=$?
	check "coop exits 0 at the end of its input, got $st" test "$st" -eq 0
	check "... after the shell ran what it was given" grep -q '^before-eof' /tmp/out
else
	bad "no /initramfs.cpio.gz (guest/linux/initramfs, built with busybox-static, which qemu-run.sh requires)"
fi
host_ticks "after the Linux guest"
check "rmmod coop" rmmod coop

echo "== $pass passed, $fail failed"
[ "$fail" -eq 0 ]
