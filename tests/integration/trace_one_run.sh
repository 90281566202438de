#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# trace_one_run.sh - a trace holds one run of one coop: --trace DIR refuses
# a directory that is not empty (exit 2, nothing touched) unless --force,
# which replaces the trace in it; and two coops tracing at the same time
# each record only their own events (one vpid, one guest boot per trace);
# coop analyze refuses a trace that holds several coop processes unless
# --pid names one.
# Run by ctest.
set -e
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/trace_lib.sh"

# vpids TRACE: the distinct vpids of a trace's events; boots TRACE: its guest boots.
vpids() { babeltrace2 "$1" | grep -o 'vpid = [0-9]*' | sort -u; }
boots() { babeltrace2 "$1" | grep -c 'coop:guest_boot:' || true; }

# A directory with something in it: refused, and left as it was.
mkdir -p "$TMP/full" && echo mine >"$TMP/full/notes.txt"
expect_usage_error "--trace $TMP/full: not empty" run --trace "$TMP/full" --exec 'echo hi'
check "a refused --trace touched the directory" [ "$(cat "$TMP/full/notes.txt")" = mine ]
check "a refused --trace touched the directory" [ "$(ls "$TMP/full")" = notes.txt ]
expect_usage_error "--force: only with --trace DIR" run --force --exec 'echo hi'

# --force replaces a trace: the second run's trace holds the second run only.
run run --trace "$TMP/t1" --exec 'spin 200'
expect_status 0
run run --trace "$TMP/t1" --exec 'echo again'
expect_status 2
run run --trace "$TMP/t1" --force --exec 'echo again'
expect_status 0
n=$(boots "$TMP/t1")
check "after --force the trace holds $n guest boots, not 1" [ "$n" -eq 1 ]

# Two coops tracing at once: each trace is its own run's.
timeout 60 "$COOP" run --trace "$TMP/ta" --exec 'spin 1500' >/dev/null 2>"$TMP/ta.err" &
a=$!
timeout 60 "$COOP" run --trace "$TMP/tb" --exec 'spin 1500' >/dev/null 2>"$TMP/tb.err" &
b=$!
wait $a || fail "the first concurrent run failed: $(cat "$TMP/ta.err")"
wait $b || fail "the second concurrent run failed: $(cat "$TMP/tb.err")"
va=$(vpids "$TMP/ta") vb=$(vpids "$TMP/tb")
for v in "$va" "$vb"; do
	check "a concurrent trace holds events of several processes: '$va' / '$vb'" \
		[ "$(echo "$v" | wc -l)" -eq 1 ]
done
check "the two traces have the same vpid ($va)" [ -n "$va" ]
check "the two traces have the same vpid ($va)" [ "$va" != "$vb" ]
for t in ta tb; do
	check "a concurrent trace holds another run's guest boot" [ "$(boots "$TMP/$t")" -eq 1 ]
done
echo "two concurrent traces: $va, $vb"
run analyze "$TMP/ta" -o "$TMP/ta-report" -q
expect_status 0

# coop analyze refuses a directory holding several coop processes (two traces
# side by side) unless told which: --pid then takes that process's events only.
mkdir -p "$TMP/both" && cp -r "$TMP/ta" "$TMP/both/a" && cp -r "$TMP/tb" "$TMP/both/b"
expect_usage_error "holds 2 coop processes" analyze "$TMP/both" -o "$TMP/both-report" -q
expect_in err "pick one with --pid"
pid_a=${va#vpid = }
run analyze "$TMP/both" -o "$TMP/both-report" -q --pid "$pid_a" --json "$TMP/both.json"
expect_status 0
n_a=$(babeltrace2 "$TMP/ta" | wc -l)
check "--pid $pid_a: the events of that process only ($n_a)" /usr/bin/python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))
assert s["trace"]["events"] == int(sys.argv[2]), (s["trace"]["events"], sys.argv[2])
assert s["provenance"]["analysis"]["pid"] == int(sys.argv[3]), s["provenance"]' \
	"$TMP/both.json" "$n_a" "$pid_a"
expect_usage_error "no events of process 1" analyze "$TMP/both" -o "$TMP/both-report" --pid 1
expect_no_sessiond
done_ok
