#!/bin/sh
# SPDX-License-Identifier: MIT
# textpoke.sh - a check of the QEMU the kmod tests run on, with no coop at
# all: the kernel patches its own text while every CPU runs it.  Each
# enable or disable of a trace event rewrites the scheduler's tracepoint
# call sites with text_poke_bp (an int3 first, the new bytes, then the
# first byte back), waiting for every CPU to acknowledge an IPI; meanwhile
# both CPUs schedule all the time.  On a correct CPU this ends within
# seconds.  QEMU 7.2's multi-threaded TCG (-cpu max) runs a
# stale translation of a patched site: that CPU loops in the int3 handler
# with interrupts off, the patching CPU waits for it forever, and the
# test hangs (qemu-run.sh then shows both CPUs) - which is why the
# harness runs TCG single-threaded.
#
# Run inside QEMU by qemu-run.sh --script tests/kmod/textpoke.sh (busybox sh).
t=/sys/kernel/tracing
ev=$t/events/irq/irq_handler_entry/enable
n=${coop_toggles:-200}
[ -e "$ev" ] || { echo "FAIL no $ev"; exit 1; }
[ "$(nproc)" -ge 2 ] || echo "note: one CPU only; the check needs two to mean anything"

echo "== text patching under load: $n enable/disable pairs of a trace event, $(nproc) CPUs busy"
(while :; do usleep 100; done) &
sleeper=$!
(while :; do
	c=0
	while [ $c -lt "$(nproc)" ]; do taskset -c $c true; c=$((c + 1)); done
done) >/dev/null 2>&1 &
hopper=$!
start=$(date +%s)
i=0
while [ $i -lt "$n" ]; do
	echo 1 >"$ev"
	echo 0 >"$ev"
	i=$((i + 1))
	[ $((i % 50)) -ne 0 ] || echo "     $i pairs, $(($(date +%s) - start)) s"
done
kill $sleeper $hopper
wait 2>/dev/null
echo "ok   $n enable/disable pairs while every CPU scheduled, in $(($(date +%s) - start)) s"
if dmesg | grep -E 'Oops|BUG:|WARNING:|rcu: INFO|detected stalls|blocked for more than'; then
	echo "FAIL the kernel logged the above while patching its text"
	exit 1
fi
echo "ok   no oops, warning, RCU stall or soft lockup in the kernel's log"
exit 0
