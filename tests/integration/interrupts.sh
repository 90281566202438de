#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# interrupts.sh - time and virtual interrupts as a user sees them: the tick
# runs at the configured rate (measured against the guest's TSC clock, so
# a busy machine cannot skew it: late timer expirations count as overruns),
# sleep sleeps, and the in-guest self-tests (preemption of two spinning
# threads, the virtual interrupt flag) pass.  Run by ctest.
set -e
. "$(dirname "$0")/lib.sh"

# rate FILE: ticks per second between the first two `ticks` lines.
rate() {
	awk '/^ticks /{ n[++k] = $2; ms[k] = $6 }
	     END { if (k < 2 || ms[2] <= ms[1]) print "none"; else printf "%.1f\n", (n[2] - n[1]) * 1000 / (ms[2] - ms[1]) }' "$1"
}

within10() { # RATE HZ
	awk -v r="$1" -v h="$2" 'BEGIN { exit !(r != "none" && r >= 0.9 * h && r <= 1.1 * h) }'
}

for hz in 100 250 1000; do
	run run --cmdline "hz=$hz" --exec 'ticks; spin 2000; ticks'
	expect_status 0
	expect_in out "hz $hz"
	r=$(rate "$TMP/out")
	check "hz=$hz while spinning: measured $r ticks/s" within10 "$r" "$hz"
done

# The tick also runs while the guest idles (sleep), at the default rate.
run run --exec 'ticks; sleep 2000; ticks'
expect_status 0
expect_in out "hz 250"
r=$(rate "$TMP/out")
check "default hz while sleeping: measured $r ticks/s" within10 "$r" 250

# A rate out of range falls back to the default.
run run --cmdline "hz=5" --exec 'ticks'
expect_status 0
expect_in out "hz 250"

# sleep 200 sleeps at least 200 ms of guest time, and not absurdly longer.
run run --exec 'ticks; sleep 200; ticks'
expect_status 0
slept=$(awk '/^ticks /{ ms[++k] = $6 } END { print ms[2] - ms[1] }' "$TMP/out")
check "sleep 200 took $slept ms" [ "$slept" -ge 200 ]
check "sleep 200 took $slept ms" [ "$slept" -lt 2000 ]

# The in-guest self-tests all in one boot (each also runs alone as its own
# ctest, guest/selftest/NAME): every one the guest lists reports PASS or SKIP.
run run --exec 'selftest all'
expect_status 0
"$COOP" run --exec selftest </dev/null >"$TMP/names"
check "the guest lists no self-test" [ -s "$TMP/names" ]
while read -r t; do
	check "selftest $t did not pass" grep -qE "^selftest $t: (PASS|SKIP)" "$TMP/out"
done <"$TMP/names"
check "a self-test failed" [ "$(grep -c FAIL "$TMP/out")" -eq 0 ]

# The same in the full-state switch mode.
run run --switch-mode full --exec 'selftest all'
expect_status 0
check "a self-test failed in full mode" [ "$(grep -c FAIL "$TMP/out")" -eq 0 ]

done_ok
