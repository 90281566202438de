#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# trace_one_run.sh - a trace holds one run of one coop: --trace DIR refuses
# a directory that is not empty (exit 2, nothing touched) unless --force,
# which replaces the trace in it; and two coops tracing at the same time
# each record only their own events (one vpid, one guest boot per trace);
# coop analyze refuses a trace that holds several runs.
# Run by ctest.
set -e
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/trace_lib.sh"

# vpids TRACE: the distinct vpids of a trace's events; boots TRACE: its guest boots.
vpids() { babeltrace2 "$1" | grep -o 'vpid = [0-9]*' | sort -u; }
boots() { babeltrace2 "$1" | grep -c 'coop:guest_boot:' || true; }

# A directory with something in it: refused, and left as it was.
mkdir -p "$TMP/full" && echo mine >"$TMP/full/notes.txt"
run run --trace "$TMP/full" --exec 'echo hi'
expect_status 2
expect_stderr_line "--trace $TMP/full: not empty"
checks=$((checks + 1))
[ "$(cat "$TMP/full/notes.txt")" = mine ] && [ "$(ls "$TMP/full")" = notes.txt ] ||
	fail "a refused --trace touched the directory"
run run --force --exec 'echo hi'
expect_status 2
expect_stderr_line "--force: only with --trace DIR"

# --force replaces a trace: the second run's trace holds the second run only.
run run --trace "$TMP/t1" --exec 'spin 200'
expect_status 0
run run --trace "$TMP/t1" --exec 'echo again'
expect_status 2
run run --trace "$TMP/t1" --force --exec 'echo again'
expect_status 0
checks=$((checks + 1))
[ "$(boots "$TMP/t1")" -eq 1 ] || fail "after --force the trace holds $(boots "$TMP/t1") guest boots, not 1"

# Two coops tracing at once: each trace is its own run's.
timeout 60 "$COOP" run --trace "$TMP/ta" --exec 'spin 1500' >/dev/null 2>"$TMP/ta.err" &
a=$!
timeout 60 "$COOP" run --trace "$TMP/tb" --exec 'spin 1500' >/dev/null 2>"$TMP/tb.err" &
b=$!
wait $a || fail "the first concurrent run failed: $(cat "$TMP/ta.err")"
wait $b || fail "the second concurrent run failed: $(cat "$TMP/tb.err")"
va=$(vpids "$TMP/ta") vb=$(vpids "$TMP/tb")
checks=$((checks + 1))
[ "$(echo "$va" | wc -l)" -eq 1 ] && [ "$(echo "$vb" | wc -l)" -eq 1 ] ||
	fail "a concurrent trace holds events of several processes: '$va' / '$vb'"
[ -n "$va" ] && [ "$va" != "$vb" ] || fail "the two traces have the same vpid ($va)"
[ "$(boots "$TMP/ta")" -eq 1 ] && [ "$(boots "$TMP/tb")" -eq 1 ] ||
	fail "a concurrent trace holds another run's guest boot"
echo "two concurrent traces: $va, $vb"
run analyze "$TMP/ta" -o "$TMP/ta-report" -q
expect_status 0

# coop analyze refuses a directory holding several runs (two traces side by side).
mkdir -p "$TMP/both" && cp -r "$TMP/ta" "$TMP/both/a" && cp -r "$TMP/tb" "$TMP/both/b"
run analyze "$TMP/both" -o "$TMP/both-report" -q
expect_status 2
expect_stderr_line "holds 2 runs"
expect_no_sessiond
done_ok
