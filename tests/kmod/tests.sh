#!/bin/sh
# SPDX-License-Identifier: MIT
# tests.sh - the kmod backend's tests, run inside QEMU by the initramfs's
# init (tests/kmod/qemu-run.sh packs both) as root, from /coop, which
# holds coop.ko, coop, coop-guest.elf, coop-kmod-ioctl and lib.sh (the
# helpers).  Prints one line per check; exits 0 when all passed, 1
# otherwise.  busybox sh.
cd /coop || exit 1
. /coop/lib.sh

cr4=$(grep -m1 '^flags' /proc/cpuinfo | grep -o -w -E 'smep|smap|umip|pcid|pti' | tr '\n' ' ')
echo "== host: $(uname -r), -cpu $coop_cpu ($coop_accel), $levels-level paging, ${cr4:-no smep/smap/umip/pcid}"
if [ "$coop_cpu" = qemu64 ]; then
	# Baseline x86-64: the guest's CRC32C runs its table (crc32c_sw), not SSE4.2's crc32.
	check "qemu64 as it is: no sse4_2, ssse3 or popcnt" sh -c "! grep -q -w -E 'sse4_2|ssse3|popcnt' /proc/cpuinfo"
fi

echo "== the module"
kmod_run 1 --exec 'echo no module yet'
has /tmp/err 'insmod coop.ko' || bad "without the module: no hint to load it"
# The physical region for guests that own their state: the host set it
# aside (memmap=), qemu-run.sh says where (coop_phys_ram=).
phys=${coop_phys_ram:-256M@0x20000000}
check "insmod coop.ko phys_ram=$phys" insmod coop.ko phys_ram="$phys"
check "/dev/coop is a character device" test -c /dev/coop
check "/dev/coop has mode 0600" test "$(stat -c %a /dev/coop)" = 600
check "the module says it is ready" sh -c 'dmesg | grep "coop: /dev/coop ready"'
# Where its code is: the harness names a hung CPU's instruction pointer with it.
echo "     coop.ko sections: $(cd /sys/module/coop/sections &&
	for s in .text .coop.switcher; do printf '%s=%s ' $s "$(cat $s)"; done)"

echo "== /dev/coop, ioctl by ioctl (coop-kmod-ioctl)"
./coop-kmod-ioctl >/tmp/ioctl 2>&1
st=$?
sed 's/^/     /' /tmp/ioctl
check "coop-kmod-ioctl passes" test "$st" -eq 0
check "no oops after the ioctl tests" no_oops
# The MSR tripwire: a guest that owns its state changes one it must not;
# the debug build warns once (WARN_ONCE: a WARNING, cleared here) and
# puts the host's value back.
dmesg -c >/dev/null
./coop-kmod-ioctl --tripwire >/tmp/ioctl 2>&1
st=$?
sed 's/^/     /' /tmp/ioctl
check "the tripwire guest finds the host's MSR back (status $st)" test "$st" -eq 0
check "... and the module warned, naming it" sh -c 'dmesg | grep -q "coop: tripwire: the guest changed MSR 0xc0000084"'
dmesg -c >/dev/null
# Root, but without CAP_SYS_RAWIO (busybox's setpriv cannot drop it from
# the bounding set; coop-kmod-ioctl can): the module refuses the open.
./coop-kmod-ioctl --without-cap-sys-rawio ./coop run --backend kmod --exec 'echo hi' \
	</dev/null >/tmp/out 2>/tmp/err
st=$?
check "coop run --backend kmod without CAP_SYS_RAWIO exits 1 ($st)" test "$st" -eq 1
check "... saying it needs CAP_SYS_RAWIO" \
	has /tmp/err 'Operation not permitted (the kmod backend needs CAP_SYS_RAWIO)'

echo "== coop run --backend kmod"
kmod_run 0 --exec 'echo hello from ring 0'
check "the guest echoed" test "$(cat /tmp/out)" = "hello from ring 0"
kmod_run 7 --exec 'poweroff 7'
kmod_run 0 --exec 'info; ticks'
has /tmp/out 'guest 1.' || bad "info printed no ABI line"

# The host keeps its timer while the guest busy-loops with interrupts on.
j0=$(sed -n 's/^jiffies: *//p' /proc/timer_list | head -n 1)
kmod_run 0 --report /tmp/spin.json --exec 'spin 1000'
j1=$(sed -n 's/^jiffies: *//p' /proc/timer_list | head -n 1)
check "host jiffies advanced across a 1 s guest busy loop ($j0 -> $j1)" test $((j1 - j0)) -ge 200
fwd=$(sed -n 's/.*"forwarded": *\([0-9]*\).*/\1/p' /tmp/spin.json | head -n 1)
check "host interrupts were forwarded while the guest spun ($fwd)" test "${fwd:-0}" -gt 0

dd if=/dev/zero of=/tmp/disk.img bs=1M count=4 2>/dev/null
kmod_run 5 --disk cobd0=/tmp/disk.img --exec 'echo scrubbing; blk scrub 0; poweroff 5'
has /tmp/out scrubbing || bad "echo before the scrub"
kmod_run 0 --exec 'selftest all'

# crash CASE REASON FUNCTION [coop options]: exit 3 and the report the user
# backend gives (tests/integration/crash.sh), from the guest's exception.
crash() {
	c=$1 reason=$2 fn=$3
	shift 3
	kmod_run 3 "$@" --exec "crash $c"
	for want in "coop: guest" "$reason" "guest registers:" "rip" "backtrace:" "$fn+" "[guest]"; do
		has /tmp/err "$want" || { bad "crash $c: the report lacks '$want'"; return; }
	done
	ok "crash $c: '$reason' in $fn, registers and backtrace"
}

echo "== guest crashes end the guest, not the host"
crash segv "SIGSEGV (page not mapped at address 0x10)" crash_segv
has /tmp/err "cmd_crash+" || bad "crash segv: the backtrace does not reach cmd_crash"
crash ud "SIGILL (invalid opcode" crash_ud
crash div "SIGFPE (integer divide by zero)" crash_div
crash stack "stack overflow" crash_stack
crash hang "hung (watchdog" crash_hang --watchdog 1
check "the host kernel logged no oops" no_oops
host_ticks "after the guest runs and crashes"

# A ring-0 guest may execute int $N for any N.  None may reach the host's
# handler for N (int $0x80 is its syscall gate, 236 its timer, 0xfd its
# reschedule IPI's vector), and none may be taken for the exception N with
# an error code (a software int pushes none): each ends the guest, exit 3.
echo "== software interrupts end the guest, never reach the host"
for n in 8 10 11 12 13 14 17 21 29 30 32 128 236; do
	kmod_run 3 --exec "crash int $n"
	for want in "coop: guest crashed: software interrupt $n (int \$" "in crash_int+" \
		"guest registers:" "backtrace:" "cmd_crash+"; do
		has /tmp/err "$want" || { bad "crash int $n: the report lacks '$want'"; continue 2; }
	done
	ok "crash int $n: 'software interrupt $n' in crash_int, registers and backtrace"
done
# int $3 is the breakpoint exception, as int3 would be.
kmod_run 3 --exec 'crash int 3'
check "crash int 3: reported as the breakpoint" \
	has /tmp/err "coop: guest crashed: SIGTRAP (breakpoint) in crash_int+"
check "no oops after software interrupts" no_oops
# What the host's handlers say when they run for a vector that did not come.
check "the host's handlers saw no interrupt that did not come" \
	sh -c "! dmesg | grep -E 'Spurious interrupt \\(vector|spurious APIC interrupt|Unexpected external interrupt|NMI received for unknown'"
host_ticks "after software interrupts"

echo "== tracepoints (ftrace)"
t=/sys/kernel/tracing
if [ -d $t/events/coop ]; then
	echo 1 >$t/events/coop/enable
	echo >$t/trace
	kmod_run 0 --exec 'spin 100; echo traced'
	echo 0 >$t/events/coop/enable
	cp $t/trace /tmp/trace
	for ev in switch_in switch_out irq_forward virq_deliver; do
		n=$(grep -c " $ev: " /tmp/trace)
		check "ftrace has coop:$ev events ($n)" test "$n" -gt 0
	done
	n=$(grep -c 'irq_forward: host_signal=236 ' /tmp/trace)
	check "... among them the host's timer (vector 236) hitting the guest ($n)" test "$n" -gt 0
	grep -m 3 -E 'switch_out|irq_forward' /tmp/trace | sed 's/^/     /'
else
	bad "no coop events in $t/events"
fi
# coop's own trace (LTTng) has the round trips the module served itself
# too: RUN's log.
echo "== coop run --backend kmod --trace"
rm -rf /tmp/t
kmod_run 0 --trace /tmp/t --report /tmp/report.json --exec 'spin 100; echo traced'
trace_adds_up
n=$(events 'coop:virq_deliver:')
check "the vIRQs the module delivered are there too ($n)" test "$n" -gt 0

# nmis PID DELAY SECONDS: after DELAY, up to 20 NMIs at every other CPU
# (sysrq l; i: how many) while PID runs, then finish PID SECONDS.
nmis() {
	sleep "$2"
	i=0
	while [ $i -lt 20 ] && kill -0 "$1" 2>/dev/null; do
		echo l >/proc/sysrq-trigger
		sleep 0.05
		i=$((i + 1))
	done
	finish "$1" "$3"
}

if [ "$(nproc)" -ge 2 ]; then
	echo "== two CPUs: the guest migrates, and NMIs are forwarded"
	# An NMI replayed twice shows as one of unknown reason.
	oopses="Oops|BUG:|WARNING:|general protection|double fault|NMI received for unknown|$stalls"
	echo 1 >$t/events/coop/irq_forward/enable
	echo >$t/trace
	dmesg -c >/dev/null
	taskset -c 1 ./coop run --backend kmod --exec 'spin 3000; echo still here' \
		</dev/null >/tmp/out 2>/tmp/err &
	pid=$!
	sleep 1
	# sysrq l: every other CPU gets an NMI and prints its backtrace, the
	# guest's CPU too - from the host's NMI handler, once it is forwarded.
	# (An NMI may also find that CPU in host code: then try again.)
	i=0
	while [ $i -lt 5 ] && ! grep -q 'source=NMI ' $t/trace; do
		echo l >/proc/sysrq-trigger
		sleep 0.3
		i=$((i + 1))
	done
	# Now move it back and forth: the host TSS, GDT and IDT differ per CPU.
	i=0
	while [ $i -lt 12 ]; do
		taskset -p -c $((i % 2)) $pid >/dev/null 2>&1
		sleep 0.1
		i=$((i + 1))
	done
	finish $pid 60
	echo 0 >$t/events/coop/irq_forward/enable
	check "a guest moved between CPUs 12 times runs on (status $st)" test "$st" -eq 0
	check "... and finished its work" test "$(cat /tmp/out)" = "still here"
	n=$(grep -c 'source=NMI ' $t/trace)
	check "an NMI that hit the spinning guest was forwarded ($n)" test "$n" -ge 1
	check "the host's NMI handler ran for the guest's CPU" sh -c 'dmesg | grep -q "NMI backtrace for cpu 1"'
	dmesg | grep -m 1 -A 4 'NMI backtrace for cpu 1' | sed 's/^/     /'
	# The backtraces have a Call Trace by design; nothing else may.
	check "no oops around the NMI" sh -c "! dmesg | grep -E '$oopses'"
	dmesg -c >/dev/null

	# NMIs into a guest that does nothing but switch: some land in the
	# switch itself, are noted there and replayed once the host is back;
	# none may be lost (each one prints the CPU's backtrace).
	echo 1 >$t/events/coop/irq_forward/enable
	echo >$t/trace
	taskset -c 1 ./coop run --backend kmod --exec 'bench switch 30000' \
		</dev/null >/tmp/out 2>/tmp/err &
	nmis $! 0.5 60
	echo 0 >$t/events/coop/irq_forward/enable
	n=$(grep -c 'source=NMI ' $t/trace)
	m=$(grep -c 'source=NMI_IN_SWITCH' $t/trace)
	got=$(dmesg | grep -c 'NMI backtrace for cpu 1')
	check "a switching guest took $i NMIs (status $st)" test "$st" -eq 0
	echo "     forwarded: $n from guest code, $m from inside the switch (the rest hit the host)"
	check "the host handled every one of them ($got of $i)" test "$got" -eq "$i"
	check "no oops around the NMIs" sh -c "! dmesg | grep -E '$oopses'"
	dmesg -c >/dev/null

	# The same with a guest that owns its state and has a GS base no
	# kernel would: a host NMI entry that ran before the host's GS base
	# was back would take it for the host's per-CPU base.
	taskset -c 1 ./coop-kmod-ioctl --switches 100000 >/tmp/out 2>&1 &
	nmis $! 0.3 120
	sed 's/^/     /' /tmp/out
	got=$(dmesg | grep -c 'NMI backtrace for cpu 1')
	check "a switching guest with a GS base of its own took $i NMIs (status $st)" test "$st" -eq 0 -a "$i" -ge 1
	check "the host handled every one of them ($got of $i)" test "$got" -eq "$i"
	check "no oops around the NMIs" sh -c "! dmesg | grep -E '$oopses'"
	dmesg -c >/dev/null

	# A machine check that hits the guest: the harness outside injects it
	# into CPU 1 (the COOP_KMOD_HMP line coop-kmod-ioctl prints) while the
	# guest spins there with interrupts off, so only the guest can take
	# it.  The host's own handler must see it and the host live on; the
	# handler may let the guest run on, or end the process (SIGBUS: 135).
	# Only where the host can survive one: an AMD CPU without MCA
	# recovery (SUCCOR, as QEMU's AMD models) panics on any uncorrected
	# error, by the host's own policy.
	if grep -q -m 1 'vendor_id.*GenuineIntel' /proc/cpuinfo; then
		./coop-kmod-ioctl --mce 1 6 >/tmp/out 2>&1
		st=$?
		sed 's/^/     /' /tmp/out
		check "a machine check in the guest reached the host's handler" sh -c 'dmesg | grep -q "Hardware Error"'
		check "... which let the guest run on or sent SIGBUS (status $st)" sh -c "[ $st -eq 0 ] || [ $st -eq 135 ]"
		dmesg | grep -m 4 -E 'Hardware Error|Memory error|mce:' | sed 's/^/     /'
		check "no oops around the machine check" sh -c "! dmesg | grep -E '$oopses'"
		dmesg -c >/dev/null
	else
		echo "     (no machine check injected: an AMD CPU model without MCA recovery; -cpu max-pti is Intel)"
	fi
	host_ticks "after NMIs, a machine check and migrations"
fi

echo "== figures: $coop_accel, so emulated, not hardware ones"
mhz=$(sed -n 's/^cpu MHz[^:]*: *\([0-9]*\).*/\1/p' /proc/cpuinfo | head -n 1)
for b in user kmod; do
	./coop run --backend $b --exec 'bench switch 2000' </dev/null >/tmp/sw 2>/dev/null
	n=$(grep -c '^SWBENCH' /tmp/sw)
	med=$(sed -n 's/^SWBENCH //p' /tmp/sw | sort -n | sed -n "$((n / 2 + 1))p")
	printf '     %-4s backend: null hypercall round trip (guest -> coop -> guest), ' "$b"
	printf 'median %s TSC cycles (%s samples, TSC %s MHz)\n' "${med:-?}" "$n" "${mhz:-?}"
done

# coop bench with the ring-0 switch: a few subjects with few samples (the
# figures are not asserted, only that they are there, ordered and labelled).
echo "== coop bench --backend kmod ($coop_accel)"
bench=world_switch_rtt,irq_forward,cobd_read_4k_rtt
timeout 200 ./coop bench --backend kmod --quick --iterations 200 --only $bench \
	--json /tmp/bench.json </dev/null >/tmp/out 2>/tmp/err
st=$?
check "coop bench --backend kmod --only $bench exits 0 ($st)" test "$st" -eq 0
[ "$st" -eq 0 ] || show stderr /tmp/err
sed -n -e '/^backend:/p' -e '/^name /,/^(ns for/p' -e '/TCG emulation:/p' -e '/^skipped:/p' \
	/tmp/out | sed 's/^/     /'
if [ "$coop_accel" = tcg ]; then
	has /tmp/out "figures: TCG emulation, not hardware" &&
		has /tmp/out "(backend kmod: these are TCG emulation figures, not hardware ones)" &&
		ok "the table says its figures are TCG emulation, not hardware"
	label='"figures": "TCG emulation, not hardware"'
	check "the JSON says so too" grep -q '"backend": "kmod", "emulated": true' /tmp/bench.json
else
	check "the table says its figures are hardware ones" has /tmp/out "figures: hardware"
	label='"figures": "hardware"'
fi
results >/tmp/results
for name in world_switch_notrace_rtt world_switch_rtt signal_return irq_forward pread_4k cobd_read_4k_rtt; do
	line=$(grep " $name " /tmp/results)
	check "bench JSON: $name positive, ordered, labelled (${line#* $name })" \
		test "${line%% *}" = ok
done

echo "== unload"
check "rmmod coop" rmmod coop
check "/dev/coop is gone" test ! -e /dev/coop
check "the host kernel logged no oops, at the end" no_oops

echo "== $pass passed, $fail failed"
[ "$fail" -eq 0 ]
