#!/bin/sh
# SPDX-License-Identifier: MIT
# lib.sh - what the in-QEMU test scripts share (tests.sh, linux.sh; qemu-run.sh
# packs it into /coop): counted checks, the coop runner, and what must never
# show in the host's log or stop in the host.  Sourced; busybox sh.
pass=0
fail=0

ok() { pass=$((pass + 1)); echo "ok   $*"; }
bad() { fail=$((fail + 1)); echo "FAIL $*"; }
# check DESCRIPTION COMMAND...: passes when the command succeeds
check() { d=$1; shift; if "$@"; then ok "$d"; else bad "$d"; fi; }
show() { echo "---- $1:"; sed 's/^/     /' "$2"; }

# kmod_run EXPECTED_STATUS [coop run options]: run the guest in ring 0,
# stdout in /tmp/out, stderr in /tmp/err; check the exit status.
kmod_run() {
	want=$1
	shift
	timeout 120 ./coop run --backend kmod "$@" </dev/null >/tmp/out 2>/tmp/err
	st=$?
	if [ "$st" -eq "$want" ]; then
		ok "coop run --backend kmod $* -> $st"
	else
		bad "coop run --backend kmod $* -> $st, want $want"
		show stdout /tmp/out
		show stderr /tmp/err
	fi
}
# report KEY_RE: the number after KEY_RE in the run report /tmp/report.json
report() { sed -n "s/.*$1\([0-9]*\).*/\1/p" /tmp/report.json | head -n 1; }
# events RE: lines of the trace's text (/tmp/t.txt, babeltrace2) with RE
events() { grep -c "$1" /tmp/t.txt; }
# trace_adds_up: the LTTng trace /tmp/t of a run holds a coop:switch_out per
# switches.total and a coop:irq_forward per irqs.forwarded of its report
# /tmp/report.json (forwards: at least one), and nothing was discarded.
trace_adds_up() {
	check "babeltrace2 reads the trace" sh -c 'babeltrace2 /tmp/t >/tmp/t.txt'
	n=$(events 'coop:switch_out:') want=$(report '"switches": {"total": ')
	check "a coop:switch_out per switches.total ($n, $want)" test "$n" -eq "${want:--1}"
	n=$(events 'coop:irq_forward:') want=$(report '"irqs": {"forwarded": ')
	check "a coop:irq_forward per irqs.forwarded ($n, $want)" test "$n" -eq "${want:--1}" -a "$n" -gt 0
	check "the tracer discarded nothing" grep -q '"discarded_events": 0' /tmp/report.json
}
has() { grep -q -F -- "$2" "$1" || { echo "     (no '$2' in $1)"; show "$1" "$1"; return 1; }; }
# What must never show in the host's log: oopses, warnings (the module's
# debug checks are WARN_ONCEs), RCU stalls, soft lockups (BUG:), hung tasks.
stalls='rcu: INFO|detected stalls|blocked for more than'
no_oops() { ! dmesg | grep -E "Oops|BUG:|WARNING:|general protection|Call Trace|double fault|$stalls"; }
# finish PID SECONDS: wait for a background coop; st is its status, or 124
# when it had to be killed (after showing where its CPU was).
finish() {
	s=0
	while kill -0 "$1" 2>/dev/null && [ $s -lt "$2" ]; do
		sleep 1
		s=$((s + 1))
	done
	if kill -0 "$1" 2>/dev/null; then
		echo "     coop $1 still runs after $2 s: its kernel stack, and every CPU's"
		sed 's/^/     /' /proc/"$1"/stack
		echo l >/proc/sysrq-trigger
		sleep 1
		dmesg | tail -n 60 | sed 's/^/     /'
		kill -9 "$1"
	fi
	wait "$1"
	st=$?
	[ $s -lt "$2" ] || st=124
}

# host_ticks WHEN: every CPU of the host still takes its timer interrupt
# after coop ran there: a loop pinned to each CPU (busy, so that the CPU
# keeps its tick) waits until that CPU's LOC count in /proc/interrupts grows.
loc() { awk -v col=$(($1 + 2)) '$1 == "LOC:" { print $col }' /proc/interrupts; }
host_ticks() {
	c=0
	while [ $c -lt "$(nproc)" ]; do
		a=$(loc $c)
		# Busy on that CPU until its count moves (a CPU deaf to its timer
		# hangs here, and the harness shows where every CPU is).
		taskset -c $c sh -c "while [ \$(awk '\$1 == \"LOC:\" { print \$$((c + 2)) }' /proc/interrupts) -le $a ]; do :; done"
		b=$(loc $c)
		check "$1: host CPU $c still takes timer interrupts (LOC $a -> $b)" test "$b" -gt "$a"
		c=$((c + 1))
	done
}

# levels: the host's paging levels (the guest's too), 4 or 5.
levels=4
grep -q '^flags.* la57' /proc/cpuinfo && levels=5
# results: every result of coop bench's /tmp/bench.json, a line each: "ok"
# (or "BAD"), its name and figures.  Good: a positive median, the percentiles shown (null: withheld, as
# for batch means and p99.9 under 10,000 samples) positive and ordered
# (min <= median <= p90 <= p99 <= p99.9 <= max), labelled $label.
results() {
	awk -v label="$label" '
	function val(k) {
		if (index($0, "\"" k "\": null"))
			return "-"
		return match($0, "\"" k "\": [0-9.]+") ? substr($0, RSTART + length(k) + 4, RLENGTH - length(k) - 4) + 0 : -1
	}
	/"name": .*"min": / {
		match($0, /"name": "[a-z0-9_]+"/)
		name = substr($0, RSTART + 9, RLENGTH - 10)
		n = split("min median p90 p99 p999 max", k, " ")
		good = index($0, label) > 0
		last = 0
		for (i = 1; i <= n; i++) {
			v[i] = val(k[i])
			if (v[i] == "-" && i != 2)
				continue
			if (v[i] == "-" || v[i] <= 0 || v[i] < last) good = 0
			else last = v[i]
		}
		printf "%s %s %s %s %s %s %s %s\n", good ? "ok" : "BAD", name, v[1], v[2], v[3], v[4], v[5], v[6]
	}' /tmp/bench.json
}
