#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# idle.sh - an idle guest costs the host almost no CPU: a guest sleeping
# for 2 s (ticking at 250 Hz) uses under 10% of a CPU, measured as the
# coop process's user+system CPU time (getrusage, via bash's `time`).
set -e
. "$(dirname "$0")/lib.sh"

TIMEFORMAT='%3R %3U %3S'
{ time "$COOP" run --exec 'sleep 2000' >"$TMP/out" 2>"$TMP/err"; } 2>"$TMP/time"
read -r real user sys <"$TMP/time"
cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN { print u + s }')
echo "idle guest: real ${real}s, cpu ${cpu}s"
check "sleep 2000 returned after ${real}s" awk -v r="$real" 'BEGIN { exit !(r >= 2.0) }'
check "idle guest used ${cpu}s CPU in ${real}s" awk -v c="$cpu" -v r="$real" 'BEGIN { exit !(c < 0.10 * r) }'

done_ok
